/**
 * GET /v1/redemptions: the redemption log of the caller's subtree (by the channel that redeemed), newest
 * first, by cursor; `outcome=failed` lists the failed verify / redeem attempts with their reason instead
 * (never the code that was tried, never the address it came from).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../lib/context";
import { redemptionLog } from "../lib/redemption-log";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { commonErrors, IsoDate, json, listOf, PageQuery, page } from "./schemas";

export const redemptionListApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

/** The log's filters (also an export's, src/routes/exports.ts). */
export const RedemptionLogFilter = z.object({
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
const Query = PageQuery.extend(RedemptionLogFilter.shape);

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
    const data = await redemptionLog(c.env.DB, auth.path, q);
    return c.json(page(data, q.limit), 200);
  },
);
