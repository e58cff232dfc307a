/**
 * Payout batches of commission payable: POST /v1/payouts takes everything the channel earned that is not in
 * a payout yet (one atomic INSERT … SELECT, so two concurrent requests never pay the same money twice);
 * POST /v1/payouts/{id}/paid marks it paid once and posts commission payable → bank.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  accountCurrencies,
  createPayout,
  listPayouts,
  markPayoutPaid,
  type PayoutRow,
  payoutInScope,
} from "../db/payouts";
import { newId } from "../domain/ids";
import { payoutPosting } from "../domain/ledger";
import { managedChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { conflict, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { type Auth, requireScope } from "../security/auth";
import { Currency, commonErrors, errorResponses, idParam, json, jsonBody, listOf, PageQuery, page } from "./schemas";

export const payoutsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Ledger"];

const PayoutSchema = z
  .object({
    id: z.string(),
    object: z.literal("payout"),
    channel_id: z.string(),
    currency: z.string(),
    amount: z.number(),
    status: z.enum(["open", "paid"]),
    reference: z.string().nullable(),
    created_at: z.string(),
    paid_at: z.string().nullable(),
  })
  .openapi("Payout");
const view = (r: PayoutRow) => ({
  id: r.id,
  object: "payout" as const,
  channel_id: r.channel_id,
  currency: r.currency,
  amount: r.amount,
  status: r.status,
  reference: r.reference,
  created_at: new Date(r.created_at).toISOString(),
  paid_at: r.paid_at === null ? null : new Date(r.paid_at).toISOString(),
});

/** The payout, if its channel lies in the caller's subtree (else 404, like an unknown id). */
async function visiblePayout(db: D1Database, auth: Auth, id: string): Promise<PayoutRow> {
  const row = await payoutInScope(db, id, auth.path);
  if (!row) throw notFound("payout");
  return row;
}

payoutsApp.openapi(
  createRoute({
    method: "post",
    path: "/payouts",
    tags,
    summary: "Create a payout batch of a channel's unpaid commission",
    request: {
      body: jsonBody(
        z
          .object({ channel_id: z.string().regex(/^chn_[a-z0-9]{1,40}$/), currency: Currency.optional() })
          .strict()
          .openapi("PayoutCreate"),
      ),
    },
    responses: { 201: json(PayoutSchema, "The payout"), ...commonErrors, ...errorResponses(422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:write");
    const body = c.req.valid("json");
    const channel = await managedChannel(c.env.DB, auth, body.channel_id);
    const account = `${channel.id}:commission`;
    let currency = body.currency;
    if (!currency) {
      const currencies = await accountCurrencies(c.env.DB, account);
      if (currencies.length > 1)
        throw unprocessable("currency_required", "this channel earned commission in several currencies: name one");
      currency = currencies[0] ?? "CNY";
    }
    const row = await createPayout(c.env.DB, {
      id: newId("pyo"),
      channelId: channel.id,
      currency,
      by: auth.keyId,
      now: Date.now(),
      account,
    });
    if (!row) throw unprocessable("nothing_to_pay", "no commission payable that is not already in a payout");
    return c.json(view(row), 201);
  },
);

payoutsApp.openapi(
  createRoute({
    method: "get",
    path: "/payouts",
    tags,
    summary: "Payouts of the caller's subtree",
    request: {
      query: PageQuery.extend({
        channel_id: z
          .string()
          .regex(/^chn_[a-z0-9]{1,40}$/)
          .optional(),
        status: z.enum(["open", "paid"]).optional(),
      }),
    },
    responses: { 200: json(listOf(PayoutSchema, "PayoutList"), "Newest first"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:read");
    const q = c.req.valid("query");
    const results = await listPayouts(c.env.DB, auth.path, q);
    return c.json(page(results.map(view), q.limit), 200);
  },
);

payoutsApp.openapi(
  createRoute({
    method: "get",
    path: "/payouts/{id}",
    tags,
    summary: "One payout",
    request: { params: idParam("pyo") },
    responses: { 200: json(PayoutSchema, "The payout"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:read");
    return c.json(view(await visiblePayout(c.env.DB, auth, c.req.valid("param").id)), 200);
  },
);

payoutsApp.openapi(
  createRoute({
    method: "post",
    path: "/payouts/{id}/paid",
    tags,
    summary: "Mark a payout paid (once) and post it to the ledger",
    request: {
      params: idParam("pyo"),
      body: {
        required: false,
        content: {
          "application/json": {
            schema: z
              .object({ reference: z.string().trim().min(1).max(200).optional() })
              .strict()
              .openapi("PayoutPaid"),
          },
        },
      },
    },
    responses: { 200: json(PayoutSchema, "The payout, paid"), ...commonErrors, ...errorResponses(409) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:write");
    const payout = await visiblePayout(c.env.DB, auth, c.req.valid("param").id);
    await managedChannel(c.env.DB, auth, payout.channel_id);
    const reference = (c.req.valid("json") as { reference?: string } | undefined)?.reference ?? null;
    const now = Date.now();
    const posting = payoutPosting({
      payout_id: payout.id,
      channel_id: payout.channel_id,
      amount: payout.amount,
      currency: payout.currency,
      at: now,
    });
    // The status change and the posting commit together; the posting's source key makes it once-only on its own too.
    const updated = await markPayoutPaid(c.env.DB, { id: payout.id, now, by: auth.keyId, reference }, posting);
    if (!updated) throw conflict("already_paid", "this payout is already paid");
    return c.json(view({ ...payout, status: "paid", paid_at: now, reference }), 200);
  },
);
