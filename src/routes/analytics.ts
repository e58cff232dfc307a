/**
 * GET /v1/analytics: the cockpit's numbers for the caller's subtree (or a channel inside it) over a period:
 * KPIs, a time series by hour or day, sales per direct child channel, hot products and low-stock alerts.
 * Everything is read from the hourly roll-ups (src/db/analytics.ts), so the cost does not grow with orders.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { chooseCurrency, readAnalytics } from "../db/analytics-read";
import { businessOffsetMs, HOUR_MS, splitRange } from "../domain/analytics-range";
import { visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { ApiError } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { commonErrors, IsoDate, json } from "./schemas";

export const analyticsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const MAX_RANGE_MS = 400 * 24 * HOUR_MS;

const Query = z.object({
  from: IsoDate.openapi({ description: "Start of the period (inclusive); rounded down to the hour" }),
  to: IsoDate.openapi({ description: "End of the period (exclusive); rounded up to the hour" }),
  channel_id: z
    .string()
    .regex(/^chn_[a-z0-9]{1,40}$/)
    .optional()
    .openapi({
      description: "A channel of the caller's subtree (default: the caller's own channel)",
    }),
  interval: z.enum(["hour", "day"]).default("day"),
  tz_offset_minutes: z.coerce.number().int().min(-840).max(840).optional().openapi({
    description:
      "The viewer's offset from UTC (e.g. 480 for Beijing), so series days start at local midnight (default: the business timezone, ANALYTICS_TZ_OFFSET_MINUTES)",
  }),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional()
    .openapi({
      description: "Currency of revenue figures (default: the period's largest by revenue, else CNY)",
    }),
});

const Counts = { orders: z.number(), units: z.number(), revenue: z.number(), redemptions: z.number() };
const AnalyticsSchema = z
  .object({
    object: z.literal("analytics"),
    channel_id: z.string(),
    from: z.string(),
    to: z.string(),
    interval: z.enum(["hour", "day"]),
    tz_offset_minutes: z.number().openapi({ description: "The offset the series' days were cut at" }),
    currency: z.string(),
    totals: z.object({
      ...Counts,
      refunds: z.number(),
      refund_amount: z.number(),
      net_revenue: z.number(),
      commission: z.number().openapi({
        description:
          "Commission earned by the channels of the subtree (the ledger's commission legs of sales, less refund reversals)",
      }),
      merchant_share: z.number().openapi({
        description:
          "The merchant's part of sales less refunds (revenue after commissions); only in the root channel's view, else 0",
      }),
      redemption_rate: z.number().nullable().openapi({ description: "Redemptions / units sold in the period" }),
    }),
    revenue_by_currency: z.array(
      z.object({
        currency: z.string(),
        revenue: z.number(),
        refund_amount: z.number(),
        commission: z.number(),
        merchant_share: z.number(),
      }),
    ),
    series: z.array(z.object({ bucket: z.string(), ...Counts })),
    channels: z.array(z.object({ channel_id: z.string(), name: z.string(), self: z.boolean(), ...Counts })),
    products: z.array(z.object({ product_id: z.string(), name: z.string(), ...Counts })),
    alerts: z.array(
      z.object({
        type: z.literal("stock.low"),
        product_id: z.string(),
        product_name: z.string(),
        channel_id: z.string(),
        channel_name: z.string(),
        quota: z.number(),
        at: z.string(),
      }),
    ),
  })
  .openapi("Analytics");

const iso = (ms: number) => new Date(ms).toISOString();

analyticsApp.openapi(
  createRoute({
    method: "get",
    path: "/analytics",
    tags: ["Analytics"],
    summary: "Cockpit numbers of the caller's subtree: KPIs, trend, channels, hot products, alerts",
    request: { query: Query },
    responses: { 200: json(AnalyticsSchema, "The period's numbers"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const q = c.req.valid("query");
    if (Date.parse(q.to) <= Date.parse(q.from)) throw new ApiError(400, "invalid_request", "'to' must be after 'from'");
    const from = Math.floor(Date.parse(q.from) / HOUR_MS) * HOUR_MS;
    const to = Math.ceil(Date.parse(q.to) / HOUR_MS) * HOUR_MS;
    if (to - from > MAX_RANGE_MS) throw new ApiError(400, "invalid_request", "a period spans at most 400 days");
    if (q.interval === "hour" && to - from > 31 * 24 * HOUR_MS)
      throw new ApiError(400, "invalid_request", "hourly series span at most 31 days; use interval=day");
    const channel = await visibleChannel(c.env.DB, auth, q.channel_id ?? auth.channelId);
    const business = businessOffsetMs(c.env.ANALYTICS_TZ_OFFSET_MINUTES);
    const viewer = (q.tz_offset_minutes ?? business / 60_000) * 60_000;
    const { totals, series, channels, products, alerts } = await readAnalytics(c.env.DB, {
      channelId: channel.id,
      path: channel.path,
      split: splitRange(from, to, business),
      interval: q.interval,
      viewerOffsetMs: viewer,
      businessOffsetMs: business,
      currency: q.currency,
    });
    const { kpis, money } = totals;
    const currency = chooseCurrency(money, q.currency);
    const m = money.find((x) => x.currency === currency) ?? {
      revenue: 0,
      refund_amount: 0,
      commission: 0,
      merchant_share: 0,
    };
    return c.json(
      {
        object: "analytics" as const,
        channel_id: channel.id,
        from: iso(from),
        to: iso(to),
        interval: q.interval,
        tz_offset_minutes: viewer / 60_000,
        currency,
        totals: {
          ...kpis,
          revenue: m.revenue,
          refund_amount: m.refund_amount,
          net_revenue: m.revenue - m.refund_amount,
          commission: m.commission,
          merchant_share: m.merchant_share,
          redemption_rate: kpis.units > 0 ? Math.round((kpis.redemptions / kpis.units) * 10_000) / 10_000 : null,
        },
        revenue_by_currency: money,
        series: series.map((s) => ({ ...s, bucket: iso(s.bucket) })),
        channels: channels.map((ch) => ({ ...ch, self: ch.channel_id === channel.id })),
        products,
        alerts: alerts.map((a) => ({
          type: "stock.low" as const,
          product_id: a.product_id,
          product_name: a.product_name,
          channel_id: a.channel_id,
          channel_name: a.channel_name,
          quota: a.quota,
          at: iso(a.created_at),
        })),
      },
      200,
    );
  },
);
