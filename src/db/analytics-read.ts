/**
 * The reads of GET /v1/analytics, all in one D1 batch (one round trip to the primary): totals per currency,
 * the trend, sales per direct child, hot products and low-stock alerts of the caller's subtree. A period is split
 * by domain/analytics-range.ts: whole business days from `analytics_daily`, the partial days at the ends from
 * `analytics_hourly`. Never a scan of orders.
 */
import { DAY_MS, HOUR_MS, type RangeSplit } from "../domain/analytics-range";
import { COUNTERS } from "./analytics";

/**
 * The roll-up rows of the subtree at `path` over a split period, as one derived table `a` with a time column
 * `t`. Parameters start at ?1; returns the SQL and its binds, so each query appends its own after them.
 */
function rows(path: string, split: RangeSplit, { hourlyOnly = false } = {}): { sql: string; binds: unknown[] } {
  const binds: unknown[] = [path];
  const cols = `channel_id, product_id, currency, ${COUNTERS.join(", ")}`;
  // Order-level rows only (product ''): an order with two products counts once.
  const inSubtree =
    "channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?1)) = ?1) AND product_id = ''";
  const parts: string[] = [];
  const ranges = hourlyOnly && split.days ? [...split.hours, split.days] : split.hours;
  if (ranges.length) {
    const within = ranges.map(([a, b]) => {
      binds.push(a, b);
      return `(hour >= ?${binds.length - 1} AND hour < ?${binds.length})`;
    });
    parts.push(`SELECT hour AS t, ${cols} FROM analytics_hourly WHERE ${inSubtree} AND (${within.join(" OR ")})`);
  }
  if (split.days && !hourlyOnly) {
    binds.push(split.days[0], split.days[1]);
    parts.push(
      `SELECT day AS t, ${cols} FROM analytics_daily WHERE ${inSubtree} AND day >= ?${binds.length - 1} AND day < ?${binds.length}`,
    );
  }
  return { sql: `(${parts.join(" UNION ALL ")}) a`, binds };
}

/**
 * The currency revenue figures are in: the one asked for (bound at ?n), else the period's largest by revenue
 * (ties: the first by code), else CNY. The same rule as `chooseCurrency`, so totals and breakdowns agree.
 */
const currencySql = (r: { sql: string }, n: number) =>
  `COALESCE(?${n}, (SELECT currency FROM ${r.sql} WHERE currency != '' GROUP BY currency
     ORDER BY SUM(revenue) DESC, currency LIMIT 1), 'CNY')`;

export interface Money {
  currency: string;
  revenue: number;
  refund_amount: number;
  commission: number;
  merchant_share: number;
}
export interface Totals {
  kpis: { orders: number; units: number; redemptions: number; refunds: number };
  money: Money[];
}
export const chooseCurrency = (money: Money[], asked: string | undefined) =>
  asked ?? [...money].sort((a, b) => b.revenue - a.revenue || (a.currency < b.currency ? -1 : 1))[0]?.currency ?? "CNY";

/** Counts (on the rows without currency) and money, per currency, in one pass over the order-level rows. */
function totals(db: D1Database, r: { sql: string; binds: unknown[] }) {
  return db
    .prepare(
      `SELECT currency, SUM(orders) AS orders, SUM(units) AS units, SUM(refunds) AS refunds, SUM(redemptions) AS redemptions,
         SUM(revenue) AS revenue, SUM(refund_amount) AS refund_amount, SUM(commission) AS commission,
         SUM(merchant_share) AS merchant_share FROM ${r.sql} GROUP BY currency ORDER BY currency`,
    )
    .bind(...r.binds);
}

function toTotals(results: Record<string, number | string>[]): Totals {
  const kpis = { orders: 0, units: 0, redemptions: 0, refunds: 0 };
  const money: Money[] = [];
  for (const x of results) {
    for (const k of Object.keys(kpis) as (keyof typeof kpis)[]) kpis[k] += Number(x[k] ?? 0);
    if (x.currency !== "") {
      const { currency, revenue, refund_amount, commission, merchant_share } = x as unknown as Money;
      money.push({ currency, revenue, refund_amount, commission, merchant_share });
    }
  }
  return { kpis, money };
}

export interface SeriesPoint {
  bucket: number;
  orders: number;
  units: number;
  revenue: number;
  redemptions: number;
}

/**
 * Buckets of an hour or a day starting at the viewer's midnight (`viewerOffsetMs`), revenue in one currency.
 * Daily rows can only be bucketed into days when the viewer's days are the business days; otherwise the
 * period is read hour by hour (exact, and still bounded by the hourly series' 31-day cap on the route).
 */
function series(db: D1Database, q: AnalyticsQuery, r: { sql: string; binds: unknown[] }) {
  const hourlyOnly = q.interval === "hour" || q.viewerOffsetMs !== q.businessOffsetMs;
  const s = hourlyOnly ? rows(q.path, q.split, { hourlyOnly }) : r;
  const n = s.binds.length + 1;
  return db
    .prepare(
      `SELECT ((t + ?${n}) / ?${n + 1}) * ?${n + 1} - ?${n} AS bucket,
         SUM(orders) AS orders, SUM(units) AS units,
         SUM(CASE WHEN currency = ${currencySql(s, n + 2)} THEN revenue ELSE 0 END) AS revenue, SUM(redemptions) AS redemptions
       FROM ${s.sql} GROUP BY bucket ORDER BY bucket`,
    )
    .bind(...s.binds, q.viewerOffsetMs, q.interval === "hour" ? HOUR_MS : DAY_MS, q.currency ?? null);
}

export interface ChannelRow {
  channel_id: string;
  name: string;
  orders: number;
  units: number;
  revenue: number;
  redemptions: number;
}

/** Per direct child of the channel (each with its own subtree rolled up), plus the channel's own sales. */
function byChild(db: D1Database, q: AnalyticsQuery, r: { sql: string; binds: unknown[] }) {
  const n = r.binds.length + 1;
  // Each roll-up row belongs to the child whose path its channel's path starts with (or to the channel itself).
  return db
    .prepare(
      `WITH k AS (SELECT id, name, path FROM channels WHERE parent_id = ?${n} OR id = ?${n}),
       s AS (SELECT ch.path AS cpath,
               SUM(a.orders) AS orders, SUM(a.units) AS units,
               SUM(CASE WHEN a.currency = ${currencySql(r, n + 1)} THEN a.revenue ELSE 0 END) AS revenue,
               SUM(a.redemptions) AS redemptions
             FROM ${r.sql} JOIN channels ch ON ch.id = a.channel_id GROUP BY ch.path)
       SELECT k.id AS channel_id, k.name, COALESCE(SUM(s.orders), 0) AS orders, COALESCE(SUM(s.units), 0) AS units,
         COALESCE(SUM(s.revenue), 0) AS revenue, COALESCE(SUM(s.redemptions), 0) AS redemptions
       FROM k LEFT JOIN s ON (k.id = ?${n} AND s.cpath = k.path) OR (k.id != ?${n} AND substr(s.cpath, 1, length(k.path)) = k.path)
       GROUP BY k.id ORDER BY k.id = ?${n} DESC, revenue DESC, k.id`,
    )
    .bind(...r.binds, q.channelId, q.currency ?? null);
}

export interface ProductRow {
  product_id: string;
  name: string;
  orders: number;
  units: number;
  revenue: number;
  redemptions: number;
}

/**
 * The subtree's products by revenue then units, top `limit`; names are today's, so a renamed product stays one row.
 * Each table is summed per product on its own (the daily part streams in product order from a covering index, the
 * hourly ends are a few hours), then the two small results are merged: one GROUP BY over the union would sort
 * every row of the period first.
 */
function byProduct(db: D1Database, q: AnalyticsQuery, r: { sql: string; binds: unknown[] }, limit: number) {
  const binds = [...r.binds, q.currency ?? null];
  const cur = `(SELECT ${currencySql(r, binds.length)})`;
  const sums = `product_id, SUM(orders) AS orders, SUM(units) AS units,
    SUM(CASE WHEN currency = ${cur} THEN revenue ELSE 0 END) AS revenue, SUM(redemptions) AS redemptions`;
  const inSubtree = "channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?1)) = ?1)";
  const parts: string[] = [];
  if (q.split.days) {
    binds.push(q.split.days[0], q.split.days[1]);
    // INDEXED BY: without ANALYZE statistics the planner prefers the channel index and then sorts every row.
    parts.push(`SELECT ${sums} FROM analytics_daily INDEXED BY analytics_daily_product
      WHERE product_id > '' AND day >= ?${binds.length - 1} AND day < ?${binds.length} AND ${inSubtree} GROUP BY product_id`);
  }
  if (q.split.hours.length) {
    const within = q.split.hours.map(([from, to]) => {
      binds.push(from, to);
      return `(hour >= ?${binds.length - 1} AND hour < ?${binds.length})`;
    });
    parts.push(`SELECT ${sums} FROM analytics_hourly
      WHERE product_id > '' AND (${within.join(" OR ")}) AND ${inSubtree} GROUP BY product_id`);
  }
  binds.push(limit);
  return db
    .prepare(
      `SELECT s.product_id, COALESCE(p.name, s.product_id) AS name, SUM(s.orders) AS orders, SUM(s.units) AS units,
         SUM(s.revenue) AS revenue, SUM(s.redemptions) AS redemptions
       FROM (${parts.join(" UNION ALL ")}) s LEFT JOIN products p ON p.id = s.product_id
       GROUP BY s.product_id ORDER BY revenue DESC, units DESC, s.product_id LIMIT ?${binds.length}`,
    )
    .bind(...binds);
}

export interface AlertRow {
  product_id: string;
  product_name: string;
  channel_id: string;
  channel_name: string;
  quota: number;
  created_at: number;
}

/** Pools of the subtree whose latest stock event is `stock.low` (not refilled since), newest first. */
function lowStockAlerts(db: D1Database, path: string, limit: number) {
  return db
    .prepare(
      `SELECT s.product_id, COALESCE(p.name, s.product_id) AS product_name, s.channel_id, ch.name AS channel_name, s.quota, s.created_at
       FROM stock_events s JOIN channels ch ON ch.id = s.channel_id LEFT JOIN products p ON p.id = s.product_id
       WHERE substr(ch.path, 1, length(?1)) = ?1 AND s.type = 'stock.low'
         AND s.created_at = (SELECT MAX(created_at) FROM stock_events t WHERE t.product_id = s.product_id AND t.channel_id = s.channel_id)
       ORDER BY s.created_at DESC LIMIT ?2`,
    )
    .bind(path, limit);
}

export interface AnalyticsQuery {
  channelId: string;
  path: string;
  split: RangeSplit;
  interval: "hour" | "day";
  viewerOffsetMs: number;
  businessOffsetMs: number;
  /** The currency asked for; when absent each statement picks the same one (`currencySql`). */
  currency?: string;
}

/** Everything the cockpit shows for a period, in one D1 batch. */
export async function readAnalytics(db: D1Database, q: AnalyticsQuery) {
  const r = rows(q.path, q.split);
  const [t, s, c, p, a] = await db.batch([
    totals(db, r),
    series(db, q, r),
    byChild(db, q, r),
    byProduct(db, q, r, 10),
    lowStockAlerts(db, q.path, 20),
  ]);
  return {
    totals: toTotals(t.results as Record<string, number | string>[]),
    series: s.results as unknown as SeriesPoint[],
    channels: c.results as unknown as ChannelRow[],
    products: p.results as unknown as ProductRow[],
    alerts: a.results as unknown as AlertRow[],
  };
}
