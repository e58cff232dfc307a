/** A channel's prepaid balance: top-ups by its parent, and the movements. Money lives in the channel's ChannelAccount. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { managedChannel, visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { conflict, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { channelAccount } from "../objects/channel-account";
import { requireScope } from "../security/auth";
import { sha256Hex } from "../security/primitives";
import { Currency, commonErrors, errorResponses, IdempotencyKey, idParam, json, jsonBody } from "./schemas";

export const balanceApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Channels"];

const TopUp = z
  .object({
    amount: z.number().int().min(1).max(1_000_000_000_000),
    currency: Currency,
    note: z.string().trim().max(500).optional(),
  })
  .strict()
  .openapi("TopUp");

const Movement = z.object({
  id: z.string(),
  kind: z.string(),
  amount: z.number(),
  balance_after: z.number(),
  order_id: z.string().nullable(),
  note: z.string().nullable(),
  created_at: z.string(),
});
const BalanceSchema = z
  .object({
    object: z.literal("balance"),
    channel_id: z.string(),
    balance: z.number(),
    credit_limit: z.number(),
    reserved: z.number(),
    available: z.number(),
    currency: z.string().nullable(),
    movements: z.array(Movement),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  })
  .openapi("Balance");

const view = (
  channelId: string,
  b: Awaited<ReturnType<ReturnType<typeof channelAccount>["balance"]>>,
  limit: number,
) => {
  const rows = b.movements.slice(0, limit);
  return {
    object: "balance" as const,
    channel_id: channelId,
    balance: b.balance,
    credit_limit: b.credit_limit,
    reserved: b.reserved,
    available: b.available,
    currency: b.currency,
    movements: rows.map((m) => ({
      id: m.id,
      kind: m.kind,
      amount: m.amount,
      balance_after: m.balance_after,
      order_id: m.order_id,
      note: m.note,
      created_at: new Date(m.created_at).toISOString(),
    })),
    has_more: b.movements.length > limit,
    next_cursor: b.movements.length > limit ? rows[rows.length - 1].id : null,
  };
};

balanceApp.openapi(
  createRoute({
    method: "post",
    path: "/channels/{id}/balance",
    tags,
    summary: "Top up a child channel's prepaid balance",
    request: {
      params: idParam("chn"),
      body: jsonBody(TopUp),
      headers: z.object({ "idempotency-key": IdempotencyKey.optional() }),
    },
    responses: {
      200: json(BalanceSchema, "The balance after the top-up"),
      ...commonErrors,
      ...errorResponses(409, 422),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:write");
    const channel = await managedChannel(c.env.DB, auth, c.req.valid("param").id);
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const movementId = key
      ? `mov_${(await sha256Hex(`${auth.channelId}:${key}`)).slice(0, 32)}`
      : `mov_${crypto.randomUUID().replace(/-/g, "")}`;
    const account = channelAccount(c.env, channel.id);
    const result = await account.topUp(
      channel.id,
      movementId,
      body.amount,
      body.currency,
      body.note ?? null,
      auth.keyId,
    );
    if (!result.ok && result.reason === "idempotency_mismatch")
      throw conflict("idempotency_mismatch", "this Idempotency-Key was used with a different top-up");
    if (!result.ok) throw unprocessable("currency_mismatch", `this channel's balance is in ${result.currency}`);
    return c.json(view(channel.id, await account.balance(20), 20), 200);
  },
);

balanceApp.openapi(
  createRoute({
    method: "get",
    path: "/channels/{id}/balance",
    tags,
    summary: "Balance, credit and movements of a channel in the caller's subtree",
    request: {
      params: idParam("chn"),
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(20),
        cursor: z
          .string()
          .regex(/^mov_[\w]+$/)
          .optional(),
      }),
    },
    responses: { 200: json(BalanceSchema, "The balance"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:read");
    const channel = await visibleChannel(c.env.DB, auth, c.req.valid("param").id);
    const q = c.req.valid("query");
    return c.json(view(channel.id, await channelAccount(c.env, channel.id).balance(q.limit, q.cursor), q.limit), 200);
  },
);
