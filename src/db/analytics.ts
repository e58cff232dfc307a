/**
 * Cockpit roll-ups in D1 (src/db/schema-analytics.ts): the statements the events consumer (and the ledger poster)
 * add to their batch for each counted event or posting, an hourly and a daily row. The reads of GET /v1/analytics
 * are in ./analytics-read.ts.
 */
import { businessDay, HOUR_MS } from "../domain/analytics-range";
import type { RollupDelta } from "../domain/rollups";

export const COUNTERS = [
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
