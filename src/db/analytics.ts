/**
 * Cockpit roll-ups in D1 (src/db/schema-analytics.ts): the statements the events consumer adds to its batch
 * for each counted event (an hourly and a daily row), and the reads of GET /v1/analytics. A read covers the
 * caller's subtree over a period split by domain/analytics-range.ts: whole business days from
 * `analytics_daily`, the partial days at the ends from `analytics_hourly`. Never a scan of orders.
 */
import { businessDay, DAY_MS, HOUR_MS, type RangeSplit } from "../domain/analytics-range";
import type { RollupDelta } from "../domain/rollups";

const COUNTERS = [
  "orders",
  "units",
  "revenue",
  "redemptions",
  "refunds",
  "refund_amount",
  "commission",
  "merchant_share",
] as const;
const UPSERT_SET = COUNTERS.map((c) => `${c} = ${c} + excluded.${c}`).join(", ");

/**
 * What makes a roll-up statement count once: the event is not in processed_events yet (the guard reads it in the
 * same transaction, before the consumer marks the event), or the ledger transaction this delivery inserted exists
 * (its fresh id only exists if this delivery's insert won, db/ledger-posting.ts).
 */
export type RollupGuard = { event: string } | { txn: string };

/** Adds a delta to its hour's row and its business day's row, guarded so a redelivered event counts once. */
export function rollupAdd(db: D1Database, guard: RollupGuard, d: RollupDelta, offsetMs: number): D1PreparedStatement[] {
  const values = [
    d.channelId,
    d.productId,
    d.currency,
    d.orders ?? 0,
    d.units ?? 0,
    d.revenue ?? 0,
    d.redemptions ?? 0,
    d.refunds ?? 0,
    d.refundAmount ?? 0,
    d.commission ?? 0,
    d.merchantShare ?? 0,
    "event" in guard ? guard.event : guard.txn,
  ];
  const condition =
    "event" in guard
      ? "NOT EXISTS (SELECT 1 FROM processed_events WHERE event_id = ?13)"
      : "EXISTS (SELECT 1 FROM ledger_transactions WHERE id = ?13)";
  const upsert = (table: string, key: string) =>
    `INSERT INTO ${table} (${key}, channel_id, product_id, currency, ${COUNTERS.join(", ")})
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 WHERE ${condition}
     ON CONFLICT (${key}, channel_id, product_id, currency) DO UPDATE SET ${UPSERT_SET}`;
  return [
    db.prepare(upsert("analytics_hourly", "hour")).bind(Math.floor(d.hour / HOUR_MS) * HOUR_MS, ...values),
    db.prepare(upsert("analytics_daily", "day")).bind(businessDay(d.hour, offsetMs), ...values),
  ];
}

/**
 * The roll-up rows of the subtree at `path` over a split period, as one derived table `a` with a time column
 * `t`. Parameters start at ?1; returns the SQL and its binds, so each query appends its own after them.
 */
function rows(
  path: string,
  split: RangeSplit,
  { hourlyOnly = false, orderLevel = false } = {},
): { sql: string; binds: unknown[] } {
  const binds: unknown[] = [path];
  const cols = `channel_id, product_id, currency, ${COUNTERS.join(", ")}`;
  const inSubtree = `channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?1)) = ?1)${orderLevel ? " AND product_id = ''" : ""}`;
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

const next = (binds: unknown[]) => binds.length + 1;

export interface Kpis {
  orders: number;
  units: number;
  redemptions: number;
  refunds: number;
}
export interface Money {
  currency: string;
  revenue: number;
  refund_amount: number;
  commission: number;
  merchant_share: number;
}

/** Totals from the order-level rows (product ''): counts, and money per currency. */
export async function rollupTotals(db: D1Database, path: string, split: RangeSplit) {
  const r = rows(path, split, { orderLevel: true });
  const [counts, money] = await db.batch([
    db
      .prepare(
        `SELECT COALESCE(SUM(orders), 0) AS orders, COALESCE(SUM(units), 0) AS units, COALESCE(SUM(refunds), 0) AS refunds,
           COALESCE(SUM(redemptions), 0) AS redemptions FROM ${r.sql}`,
      )
      .bind(...r.binds),
    db
      .prepare(
        `SELECT currency, SUM(revenue) AS revenue, SUM(refund_amount) AS refund_amount, SUM(commission) AS commission,
           SUM(merchant_share) AS merchant_share FROM ${r.sql}
         WHERE currency != '' GROUP BY currency ORDER BY currency`,
      )
      .bind(...r.binds),
  ]);
  const c = (counts.results[0] ?? {}) as Partial<Kpis>;
  return {
    kpis: { orders: c.orders ?? 0, units: c.units ?? 0, refunds: c.refunds ?? 0, redemptions: c.redemptions ?? 0 },
    money: money.results as unknown as Money[],
  };
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
export async function rollupSeries(
  db: D1Database,
  path: string,
  split: RangeSplit,
  interval: "hour" | "day",
  viewerOffsetMs: number,
  businessOffsetMs: number,
  currency: string,
): Promise<SeriesPoint[]> {
  const hourlyOnly = interval === "hour" || viewerOffsetMs !== businessOffsetMs;
  const r = rows(path, split, { hourlyOnly, orderLevel: true });
  const n = next(r.binds);
  const { results } = await db
    .prepare(
      `SELECT ((t + ?${n}) / ?${n + 1}) * ?${n + 1} - ?${n} AS bucket,
         SUM(orders) AS orders, SUM(units) AS units,
         SUM(CASE WHEN currency = ?${n + 2} THEN revenue ELSE 0 END) AS revenue, SUM(redemptions) AS redemptions
       FROM ${r.sql} GROUP BY bucket ORDER BY bucket`,
    )
    .bind(...r.binds, viewerOffsetMs, interval === "hour" ? HOUR_MS : DAY_MS, currency)
    .all<SeriesPoint>();
  return results;
}

export interface ChannelRow {
  channel_id: string;
  name: string;
  orders: number;
  units: number;
  revenue: number;
  redemptions: number;
}

/** Per direct child of the channel at `path` (each with its own subtree rolled up), plus the channel's own sales. */
export async function rollupByChild(
  db: D1Database,
  channelId: string,
  path: string,
  split: RangeSplit,
  currency: string,
): Promise<ChannelRow[]> {
  const r = rows(path, split, { orderLevel: true });
  const n = next(r.binds);
  // Each roll-up row belongs to the child whose path its channel's path starts with (or to the channel itself).
  const { results } = await db
    .prepare(
      `WITH k AS (SELECT id, name, path FROM channels WHERE parent_id = ?${n} OR id = ?${n}),
       s AS (SELECT ch.path AS cpath,
               SUM(a.orders) AS orders, SUM(a.units) AS units,
               SUM(CASE WHEN a.currency = ?${n + 1} THEN a.revenue ELSE 0 END) AS revenue, SUM(a.redemptions) AS redemptions
             FROM ${r.sql} JOIN channels ch ON ch.id = a.channel_id GROUP BY ch.path)
       SELECT k.id AS channel_id, k.name, COALESCE(SUM(s.orders), 0) AS orders, COALESCE(SUM(s.units), 0) AS units,
         COALESCE(SUM(s.revenue), 0) AS revenue, COALESCE(SUM(s.redemptions), 0) AS redemptions
       FROM k LEFT JOIN s ON (k.id = ?${n} AND s.cpath = k.path) OR (k.id != ?${n} AND substr(s.cpath, 1, length(k.path)) = k.path)
       GROUP BY k.id ORDER BY k.id = ?${n} DESC, revenue DESC, k.id`,
    )
    .bind(...r.binds, channelId, currency)
    .all<ChannelRow>();
  return results;
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
export async function rollupByProduct(
  db: D1Database,
  path: string,
  split: RangeSplit,
  currency: string,
  limit: number,
): Promise<ProductRow[]> {
  const binds: unknown[] = [path, currency];
  const sums = `product_id, SUM(orders) AS orders, SUM(units) AS units,
    SUM(CASE WHEN currency = ?2 THEN revenue ELSE 0 END) AS revenue, SUM(redemptions) AS redemptions`;
  const inSubtree = "channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?1)) = ?1)";
  const parts: string[] = [];
  if (split.days) {
    binds.push(split.days[0], split.days[1]);
    // INDEXED BY: without ANALYZE statistics the planner prefers the channel index and then sorts every row.
    parts.push(`SELECT ${sums} FROM analytics_daily INDEXED BY analytics_daily_product
      WHERE product_id > '' AND day >= ?3 AND day < ?4 AND ${inSubtree} GROUP BY product_id`);
  }
  if (split.hours.length) {
    const within = split.hours.map(([from, to]) => {
      binds.push(from, to);
      return `(hour >= ?${binds.length - 1} AND hour < ?${binds.length})`;
    });
    parts.push(`SELECT ${sums} FROM analytics_hourly
      WHERE product_id > '' AND (${within.join(" OR ")}) AND ${inSubtree} GROUP BY product_id`);
  }
  if (parts.length === 0) return [];
  binds.push(limit);
  const { results } = await db
    .prepare(
      `SELECT s.product_id, COALESCE(p.name, s.product_id) AS name, SUM(s.orders) AS orders, SUM(s.units) AS units,
         SUM(s.revenue) AS revenue, SUM(s.redemptions) AS redemptions
       FROM (${parts.join(" UNION ALL ")}) s LEFT JOIN products p ON p.id = s.product_id
       GROUP BY s.product_id ORDER BY revenue DESC, units DESC, s.product_id LIMIT ?${binds.length}`,
    )
    .bind(...binds)
    .all<ProductRow>();
  return results;
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
export async function lowStockAlerts(db: D1Database, path: string, limit: number): Promise<AlertRow[]> {
  const { results } = await db
    .prepare(
      `SELECT s.product_id, COALESCE(p.name, s.product_id) AS product_name, s.channel_id, ch.name AS channel_name, s.quota, s.created_at
       FROM stock_events s JOIN channels ch ON ch.id = s.channel_id LEFT JOIN products p ON p.id = s.product_id
       WHERE substr(ch.path, 1, length(?1)) = ?1 AND s.type = 'stock.low'
         AND s.created_at = (SELECT MAX(created_at) FROM stock_events t WHERE t.product_id = s.product_id AND t.channel_id = s.channel_id)
       ORDER BY s.created_at DESC LIMIT ?2`,
    )
    .bind(path, limit)
    .all<AlertRow>();
  return results;
}
