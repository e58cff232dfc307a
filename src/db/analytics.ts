/**
 * Cockpit roll-ups in D1 (`analytics_hourly`, src/db/schema-analytics.ts): the statement the events consumer
 * adds to its batch for each counted event, and the reads of GET /v1/analytics. Every read is over the
 * roll-up rows of the caller's subtree in a time range: hours × channels × products, never orders.
 */

export const HOUR_MS = 3_600_000;

import type { RollupDelta } from "../domain/rollups";

/**
 * Adds a delta to its hour's row, unless the event was applied before: the guard reads processed_events in the
 * same transaction, before the consumer marks the event, so a redelivered or duplicated event counts once.
 */
export function rollupAdd(db: D1Database, eventId: string, d: RollupDelta): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO analytics_hourly (hour, channel_id, product_id, currency, orders, units, revenue, redemptions, refunds, refund_amount)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE NOT EXISTS (SELECT 1 FROM processed_events WHERE event_id = ?11)
       ON CONFLICT (hour, channel_id, product_id, currency) DO UPDATE SET
         orders = orders + excluded.orders, units = units + excluded.units, revenue = revenue + excluded.revenue,
         redemptions = redemptions + excluded.redemptions, refunds = refunds + excluded.refunds,
         refund_amount = refund_amount + excluded.refund_amount`,
    )
    .bind(
      Math.floor(d.hour / HOUR_MS) * HOUR_MS,
      d.channelId,
      d.productId,
      d.currency,
      d.orders ?? 0,
      d.units ?? 0,
      d.revenue ?? 0,
      d.redemptions ?? 0,
      d.refunds ?? 0,
      d.refundAmount ?? 0,
      eventId,
    );
}

const IN_SUBTREE = "a.channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?1)) = ?1)";
const IN_RANGE = "a.hour >= ?2 AND a.hour < ?3";

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
}

/** Totals of the subtree at `path` over [from, to): counts from the order-level rows, money per currency. */
export async function rollupTotals(db: D1Database, path: string, from: number, to: number) {
  const [counts, money, redemptions] = await db.batch([
    db
      .prepare(
        `SELECT COALESCE(SUM(orders), 0) AS orders, COALESCE(SUM(units), 0) AS units, COALESCE(SUM(refunds), 0) AS refunds
         FROM analytics_hourly a WHERE ${IN_SUBTREE} AND ${IN_RANGE} AND a.product_id = ''`,
      )
      .bind(path, from, to),
    db
      .prepare(
        `SELECT currency, SUM(revenue) AS revenue, SUM(refund_amount) AS refund_amount FROM analytics_hourly a
         WHERE ${IN_SUBTREE} AND ${IN_RANGE} AND a.product_id = '' AND a.currency != '' GROUP BY currency ORDER BY currency`,
      )
      .bind(path, from, to),
    db
      .prepare(
        `SELECT COALESCE(SUM(redemptions), 0) AS redemptions FROM analytics_hourly a
         WHERE ${IN_SUBTREE} AND ${IN_RANGE} AND a.product_id != ''`,
      )
      .bind(path, from, to),
  ]);
  const c = (counts.results[0] ?? {}) as Omit<Kpis, "redemptions">;
  const r = (redemptions.results[0] ?? {}) as { redemptions: number };
  return {
    kpis: { orders: c.orders ?? 0, units: c.units ?? 0, refunds: c.refunds ?? 0, redemptions: r.redemptions ?? 0 },
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
 * Buckets of `size` ms (an hour or a day) shifted by `offsetMs` (the viewer's UTC offset, so days start at
 * local midnight), over [from, to). Revenue is summed over one currency.
 */
export async function rollupSeries(
  db: D1Database,
  path: string,
  from: number,
  to: number,
  size: number,
  offsetMs: number,
  currency: string,
): Promise<SeriesPoint[]> {
  const { results } = await db
    .prepare(
      `SELECT ((a.hour + ?4) / ?5) * ?5 - ?4 AS bucket,
         SUM(CASE WHEN a.product_id = '' THEN a.orders ELSE 0 END) AS orders,
         SUM(CASE WHEN a.product_id = '' THEN a.units ELSE 0 END) AS units,
         SUM(CASE WHEN a.product_id = '' AND a.currency = ?6 THEN a.revenue ELSE 0 END) AS revenue,
         SUM(CASE WHEN a.product_id != '' THEN a.redemptions ELSE 0 END) AS redemptions
       FROM analytics_hourly a WHERE ${IN_SUBTREE} AND ${IN_RANGE} GROUP BY bucket ORDER BY bucket`,
    )
    .bind(path, from, to, offsetMs, size, currency)
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

/** Per direct child of `channelId` (each with its own subtree rolled up), plus the channel's own sales. */
export async function rollupByChild(
  db: D1Database,
  channelId: string,
  from: number,
  to: number,
  currency: string,
): Promise<ChannelRow[]> {
  const { results } = await db
    .prepare(
      `SELECT k.id AS channel_id, k.name,
         COALESCE(SUM(CASE WHEN a.product_id = '' THEN a.orders END), 0) AS orders,
         COALESCE(SUM(CASE WHEN a.product_id = '' THEN a.units END), 0) AS units,
         COALESCE(SUM(CASE WHEN a.product_id = '' AND a.currency = ?4 THEN a.revenue END), 0) AS revenue,
         COALESCE(SUM(CASE WHEN a.product_id != '' THEN a.redemptions END), 0) AS redemptions
       FROM channels k
       LEFT JOIN channels ch ON (k.id = ?1 AND ch.id = k.id) OR (k.id != ?1 AND substr(ch.path, 1, length(k.path)) = k.path)
       LEFT JOIN analytics_hourly a ON a.channel_id = ch.id AND a.hour >= ?2 AND a.hour < ?3
       WHERE k.parent_id = ?1 OR k.id = ?1 GROUP BY k.id ORDER BY k.id = ?1 DESC, revenue DESC, k.id`,
    )
    .bind(channelId, from, to, currency)
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

/** The subtree's products by revenue then units, top `limit`; names are today's, so a renamed product stays one row. */
export async function rollupByProduct(
  db: D1Database,
  path: string,
  from: number,
  to: number,
  currency: string,
  limit: number,
): Promise<ProductRow[]> {
  const { results } = await db
    .prepare(
      `SELECT a.product_id, COALESCE(p.name, a.product_id) AS name, SUM(a.orders) AS orders, SUM(a.units) AS units,
         SUM(CASE WHEN a.currency = ?4 THEN a.revenue ELSE 0 END) AS revenue, SUM(a.redemptions) AS redemptions
       FROM analytics_hourly a LEFT JOIN products p ON p.id = a.product_id
       WHERE ${IN_SUBTREE} AND ${IN_RANGE} AND a.product_id != ''
       GROUP BY a.product_id ORDER BY revenue DESC, units DESC, a.product_id LIMIT ?5`,
    )
    .bind(path, from, to, currency, limit)
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
