/**
 * Cockpit roll-ups: one row per (UTC hour, channel, product, currency), kept by the events consumer in the
 * same D1 transaction as the projections (src/queues/rollups.ts), so no cockpit query scans orders.
 * Order-level rows have product_id '' (an order with two products counts once there); product rows count
 * the orders that contain the product. Rows without money (redemptions, units) have currency ''. A
 * redemption counts on both its product's row and the order-level row, so totals read order-level rows only.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The counters both roll-up tables carry. */
const counters = () => ({
  channel_id: text("channel_id").notNull(),
  product_id: text("product_id").notNull(),
  currency: text("currency").notNull(),
  /** Fulfilled orders (order.fulfilled). */
  orders: integer("orders").notNull().default(0),
  units: integer("units").notNull().default(0),
  /** Money taken (order.paid by balance or gateway), exactly what the ledger posts as sales. */
  revenue: integer("revenue").notNull().default(0),
  redemptions: integer("redemptions").notNull().default(0),
  refunds: integer("refunds").notNull().default(0),
  refund_amount: integer("refund_amount").notNull().default(0),
  /**
   * Commission the row's channel earned (the ledger's commission legs of sales, less their refund reversals), at
   * the earning channel, not the ordering one; order-level rows only.
   */
  commission: integer("commission").notNull().default(0),
  /** The merchant's part of sales less refunds (deferred + recognised revenue legs), on the root channel's rows. */
  merchant_share: integer("merchant_share").notNull().default(0),
});

export const analyticsHourly = sqliteTable(
  "analytics_hourly",
  {
    /** Epoch ms at the start of the UTC hour. */
    hour: integer("hour").notNull(),
    ...counters(),
  },
  (t) => [
    primaryKey({ columns: [t.hour, t.channel_id, t.product_id, t.currency] }),
    index("analytics_hourly_channel").on(t.channel_id, t.hour),
    // Order-level reads (totals, trend, channels) seek straight to product_id = ''.
    index("analytics_hourly_channel_product").on(t.channel_id, t.product_id, t.hour),
  ],
);

/** The same roll-ups per business day (local midnight of ANALYTICS_TZ_OFFSET_MINUTES), for long periods. */
export const analyticsDaily = sqliteTable(
  "analytics_daily",
  {
    /** Epoch ms at the start of the business day. */
    day: integer("day").notNull(),
    ...counters(),
  },
  (t) => [
    primaryKey({ columns: [t.day, t.channel_id, t.product_id, t.currency] }),
    index("analytics_daily_channel_product").on(t.channel_id, t.product_id, t.day),
    // Hot products: a covering index in product order, so the sum per product streams without a sort
    // (db/analytics.ts, rollupByProduct).
    index("analytics_daily_product").on(
      t.product_id,
      t.day,
      t.channel_id,
      t.currency,
      t.orders,
      t.units,
      t.revenue,
      t.redemptions,
    ),
  ],
);

/** The event log of GET /v1/events: one row per event that concerns a channel, safe fields only (domain/event-log.ts). */
export const eventLog = sqliteTable(
  "event_log",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    channel_id: text("channel_id").notNull(),
    subject_id: text("subject_id"),
    summary: text("summary").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [index("event_log_channel").on(t.channel_id, t.id)],
);
