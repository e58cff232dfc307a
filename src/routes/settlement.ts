/**
 * Split-settlement rules (分账): PUT/GET /v1/channels/{id}/settlement. A channel's rule is set by an
 * ancestor (the root sets any); what the rule means is in src/domain/settlement.ts and docs/ledger.md.
 * Rules apply to orders paid after the change; posted sales are never recomputed.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { getSettlementRule, type SettlementRuleRow, upsertSettlementRule } from "../db/settlement";
import { managedChannel, visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { commonErrors, idParam, json, jsonBody, Money } from "./schemas";

export const settlementApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Ledger"];

const Bps = z.number().int().min(0).max(10_000).openapi({ description: "Basis points of the line amount (800 = 8 %)" });
const Override = z
  .object({
    product_id: z.string().regex(/^prd_[a-z0-9]{1,40}$/),
    bps: Bps.optional(),
    fixed_per_unit: Money.optional(),
    cap: Money.optional().openapi({ description: "Most this channel earns from one order line of this product" }),
  })
  .strict()
  .refine((o) => o.bps !== undefined || o.fixed_per_unit !== undefined, "an override needs bps or fixed_per_unit");

const RuleBody = z
  .object({
    bps: Bps.optional(),
    fixed_per_unit: Money.optional().openapi({ description: "Minor units per unit sold, added to the bps part" }),
    cap: Money.optional().openapi({ description: "Most this channel earns from one order (all lines together)" }),
    overrides: z.array(Override).max(500).optional(),
  })
  .strict()
  .refine(
    (r) => new Set((r.overrides ?? []).map((o) => o.product_id)).size === (r.overrides ?? []).length,
    "one override per product",
  )
  .openapi("SettlementRuleInput");

const RuleSchema = z
  .object({
    object: z.literal("settlement_rule"),
    channel_id: z.string(),
    bps: z.number().nullable(),
    fixed_per_unit: z.number().nullable(),
    cap: z.number().nullable(),
    overrides: z.array(
      z.object({
        product_id: z.string(),
        bps: z.number().optional(),
        fixed_per_unit: z.number().optional(),
        cap: z.number().optional(),
      }),
    ),
    updated_at: z.string().nullable(),
  })
  .openapi("SettlementRule");

const view = (channelId: string, row: SettlementRuleRow | null) => ({
  object: "settlement_rule" as const,
  channel_id: channelId,
  bps: row?.bps ?? null,
  fixed_per_unit: row?.fixed_per_unit ?? null,
  cap: row?.cap ?? null,
  overrides: row ? JSON.parse(row.overrides) : [],
  updated_at: row ? new Date(row.updated_at).toISOString() : null,
});

settlementApp.openapi(
  createRoute({
    method: "put",
    path: "/channels/{id}/settlement",
    tags,
    summary: "Set the commission rule of a channel below the caller (replaces the whole rule)",
    request: { params: idParam("chn"), body: jsonBody(RuleBody) },
    responses: { 200: json(RuleSchema, "The rule"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:write");
    const channel = await managedChannel(c.env.DB, auth, c.req.valid("param").id);
    const b = c.req.valid("json");
    const row = await upsertSettlementRule(c.env.DB, {
      channelId: channel.id,
      bps: b.bps ?? null,
      fixedPerUnit: b.fixed_per_unit ?? null,
      cap: b.cap ?? null,
      overrides: JSON.stringify(b.overrides ?? []),
      now: Date.now(),
      by: auth.keyId,
    });
    return c.json(view(channel.id, row), 200);
  },
);

settlementApp.openapi(
  createRoute({
    method: "get",
    path: "/channels/{id}/settlement",
    tags,
    summary: "The commission rule of a channel in the caller's subtree",
    request: { params: idParam("chn") },
    responses: { 200: json(RuleSchema, "The rule (all null when none is set)"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:read");
    const channel = await visibleChannel(c.env.DB, auth, c.req.valid("param").id);
    const row = await getSettlementRule(c.env.DB, channel.id);
    return c.json(view(channel.id, row), 200);
  },
);
