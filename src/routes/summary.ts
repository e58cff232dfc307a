/**
 * GET /v1/channels/{id}/summary: a channel's numbers with its whole subtree rolled up, read
 * from the D1 projections (orders, code states) plus quotas from the pools and the balance
 * from the ChannelAccount. A channel never sees a sibling's numbers: the id is scoped.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { productShards } from "../db/products";
import {
  activeProductIds,
  childTotals,
  codeTotals,
  enabledPoolProductIds,
  productTotals,
  subtreeTotals,
} from "../db/summary";
import { ROOT_CHANNEL_ID } from "../domain/ids";
import { visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { validationHook } from "../lib/validation";
import { channelAccount } from "../objects/channel-account";
import { skuPool } from "../objects/sku-pool";
import { requireScope } from "../security/auth";
import { commonErrors, IsoDate, idParam, json } from "./schemas";

export const summaryApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const Totals = z.object({ orders: z.number(), units: z.number(), revenue: z.number() });
const SummarySchema = z
  .object({
    object: z.literal("channel_summary"),
    channel_id: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    totals: Totals.extend({ redemptions: z.number(), redemption_rate: z.number().nullable() }),
    children: z.array(Totals.extend({ channel_id: z.string(), name: z.string() })),
    products: z.array(
      z.object({ product_id: z.string(), units: z.number(), revenue: z.number(), quota_remaining: z.number() }),
    ),
    balance: z.object({
      balance: z.number(),
      credit_limit: z.number(),
      available: z.number(),
      currency: z.string().nullable(),
    }),
  })
  .openapi("ChannelSummary");

summaryApp.openapi(
  createRoute({
    method: "get",
    path: "/channels/{id}/summary",
    tags: ["Channels"],
    summary: "Orders, units, revenue, redemptions, quotas and balance of a channel and its subtree",
    request: { params: idParam("chn"), query: z.object({ from: IsoDate.optional(), to: IsoDate.optional() }) },
    responses: { 200: json(SummarySchema, "The roll-up"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:read");
    const channel = await visibleChannel(c.env.DB, auth, c.req.valid("param").id);
    const q = c.req.valid("query");
    const from = q.from ? Date.parse(q.from) : 0;
    const to = q.to ? Date.parse(q.to) : 8_640_000_000_000_000;
    const db = c.env.DB;
    const [totals, children, perProduct, codes, balance] = await Promise.all([
      subtreeTotals(db, channel.path, from, to),
      childTotals(db, channel.id, from, to),
      productTotals(db, channel.path, from, to),
      codeTotals(db, channel.path, from, to),
      channelAccount(c.env, channel.id).balance(0),
    ]);
    const productIds = await poolProducts(
      db,
      channel.id,
      perProduct.results.map((p) => p.product_id),
    );
    const quotas = await Promise.all(productIds.map((id) => remainingQuota(c.env, id, channel.id, channel.path)));
    const sold = new Map(perProduct.results.map((p) => [p.product_id, p]));
    return c.json(
      {
        object: "channel_summary" as const,
        channel_id: channel.id,
        from: q.from ?? null,
        to: q.to ?? null,
        totals: {
          ...totals!,
          redemptions: codes!.redeemed,
          redemption_rate: codes!.issued ? Math.round((codes!.redeemed / codes!.issued) * 10_000) / 10_000 : null,
        },
        children: children.results,
        products: productIds.map((id, i) => ({
          product_id: id,
          units: sold.get(id)?.units ?? 0,
          revenue: sold.get(id)?.revenue ?? 0,
          quota_remaining: quotas[i],
        })),
        balance: {
          balance: balance.balance,
          credit_limit: balance.credit_limit,
          available: balance.available,
          currency: balance.currency,
        },
      },
      200,
    );
  },
);

/** The products a summary reports on: the channel's pool (the root: its active catalog, first 100) plus anything sold. */
async function poolProducts(db: D1Database, channelId: string, sold: string[]): Promise<string[]> {
  const pool = channelId === ROOT_CHANNEL_ID ? await activeProductIds(db) : await enabledPoolProductIds(db, channelId);
  return [...new Set([...pool, ...sold])].sort();
}

/** Quota left in the subtree (the root: its unallocated stock plus every channel's quota). */
async function remainingQuota(env: Env, productId: string, channelId: string, path: string): Promise<number> {
  const shards = (await productShards(env.DB, productId)) ?? 1;
  const views = await Promise.all(
    Array.from({ length: shards }, (_, shard) =>
      skuPool(env, { productId, shard }).allocations({ productId, shard }, path),
    ),
  );
  return views.reduce(
    (sum, v) =>
      sum +
      v.allocations.reduce((s, a) => s + a.quota, 0) +
      (channelId === ROOT_CHANNEL_ID ? Math.max(0, v.unallocated) : 0),
    0,
  );
}
