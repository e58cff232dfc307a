/**
 * GET /v1/redemptions: the redemption log of the caller's subtree (by the channel that redeemed), newest
 * first, by cursor; `outcome=failed` lists the failed verify / redeem attempts with their reason instead
 * (never the code that was tried, never the address it came from).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { listRedemptionAttempts, listRedemptions } from "../db/redemptions";
import type { AppEnv } from "../lib/context";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { commonErrors, IsoDate, json, listOf, PageQuery, page } from "./schemas";

export const redemptionListApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const Query = PageQuery.extend({
  outcome: z.enum(["succeeded", "failed"]).default("succeeded"),
  channel_id: z
    .string()
    .regex(/^chn_[a-z0-9]{1,40}$/)
    .optional(),
  product_id: z
    .string()
    .regex(/^prd_[a-z0-9]{1,40}$/)
    .optional(),
  order_id: z
    .string()
    .regex(/^ord_[a-z0-9]{1,40}$/)
    .optional()
    .openapi({ description: "Only with outcome=succeeded" }),
  from: IsoDate.optional(),
  to: IsoDate.optional(),
});

const Entry = z
  .object({
    id: z.string(),
    object: z.enum(["redemption", "redemption_attempt"]),
    outcome: z.enum(["redeemed", "reversed", "failed"]),
    reason: z.string().nullable().openapi({ description: "Why an attempt failed (e.g. code_not_found, expired)" }),
    action: z.enum(["verify", "redeem"]).nullable(),
    product_id: z.string().nullable(),
    channel_id: z.string(),
    order_id: z.string().nullable(),
    last4: z.string().nullable(),
    redeemer: z.string().nullable(),
    at: z.string(),
    reversed_at: z.string().nullable(),
  })
  .openapi("RedemptionLogEntry");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

redemptionListApp.openapi(
  createRoute({
    method: "get",
    path: "/redemptions",
    tags: ["Redemptions"],
    summary: "The redemption log of the caller's subtree, or its failed attempts (outcome=failed)",
    request: { query: Query },
    responses: { 200: json(listOf(Entry, "RedemptionLog"), "A page of the log"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const q = c.req.valid("query");
    const filter = {
      ...q,
      from: q.from ? Date.parse(q.from) : undefined,
      to: q.to ? Date.parse(q.to) : undefined,
    };
    if (q.outcome === "failed") {
      const rows = await listRedemptionAttempts(c.env.DB, auth.path, { ...filter, order_id: undefined });
      const data = rows.map((r) => ({
        id: r.id,
        object: "redemption_attempt" as const,
        outcome: "failed" as const,
        reason: r.result,
        action: r.action === "verify" ? ("verify" as const) : ("redeem" as const),
        product_id: r.product_id,
        channel_id: r.channel_id,
        order_id: null,
        last4: null,
        redeemer: null,
        at: iso(r.created_at)!,
        reversed_at: null,
      }));
      return c.json(page(data, q.limit), 200);
    }
    const rows = await listRedemptions(c.env.DB, auth.path, filter);
    const data = rows.map((r) => ({
      id: r.id,
      object: "redemption" as const,
      outcome: r.reversed_at === null ? ("redeemed" as const) : ("reversed" as const),
      reason: null,
      action: null,
      product_id: r.product_id,
      channel_id: r.channel_id,
      order_id: r.order_id,
      last4: r.last4,
      redeemer: r.redeemer,
      at: iso(r.redeemed_at)!,
      reversed_at: iso(r.reversed_at),
    }));
    return c.json(page(data, q.limit), 200);
  },
);
