/** D1 tables of checkout and payments (migrations/0010_payments.sql): publishable keys, gateway notices, refunds. */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const publishableKeys = sqliteTable(
  "publishable_keys",
  {
    id: text("id").primaryKey(),
    channel_id: text("channel_id").notNull(),
    name: text("name"),
    prefix: text("prefix").notNull(),
    /** SHA-256 of the pk_… key. */
    hash: text("hash").notNull(),
    /** JSON array of exact origins (scheme://host[:port]). */
    allowed_origins: text("allowed_origins").notNull(),
    created_at: integer("created_at").notNull(),
    revoked_at: integer("revoked_at"),
  },
  (t) => [
    uniqueIndex("publishable_keys_hash_unique").on(t.hash),
    index("publishable_keys_channel").on(t.channel_id, t.id),
  ],
);

export const paymentNotices = sqliteTable(
  "payment_notices",
  {
    id: text("id").primaryKey(),
    gateway: text("gateway").notNull(),
    notice_id: text("notice_id").notNull(),
    /** paid | refunded | other */
    kind: text("kind").notNull(),
    order_id: text("order_id"),
    channel_id: text("channel_id"),
    payment_id: text("payment_id"),
    amount: integer("amount"),
    currency: text("currency"),
    outcome: text("outcome").notNull(),
    deliveries: integer("deliveries").notNull().default(1),
    received_at: integer("received_at").notNull(),
    last_received_at: integer("last_received_at").notNull(),
  },
  (t) => [
    uniqueIndex("payment_notices_gateway_notice").on(t.gateway, t.notice_id),
    index("payment_notices_order").on(t.order_id),
    index("payment_notices_received").on(t.received_at),
  ],
);

export const paymentNoticeRejections = sqliteTable(
  "payment_notice_rejections",
  {
    gateway: text("gateway").notNull(),
    day: text("day").notNull(),
    reason: text("reason").notNull(),
    count: integer("count").notNull().default(0),
    last_at: integer("last_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.gateway, t.day, t.reason] })],
);

export const refunds = sqliteTable(
  "refunds",
  {
    id: text("id").primaryKey(),
    order_id: text("order_id").notNull(),
    channel_id: text("channel_id").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    to: text("to").notNull(),
    gateway: text("gateway"),
    gateway_refund_id: text("gateway_refund_id"),
    reason: text("reason").notNull(),
    was_fulfilled: integer("was_fulfilled").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("refunds_order_unique").on(t.order_id)],
);

export const checkoutOrders = sqliteTable("checkout_orders", {
  order_id: text("order_id").primaryKey(),
  channel_id: text("channel_id").notNull(),
  gateway: text("gateway").notNull(),
  payment_id: text("payment_id").notNull(),
  created_at: integer("created_at").notNull(),
});

/**
 * A consumer's access to a checkout order from the hosted pages: the look-up password chosen at checkout
 * (PBKDF2, never the password) and when the codes were first revealed there (the order timeline's step).
 */
export const orderAccess = sqliteTable("order_access", {
  order_id: text("order_id").primaryKey(),
  channel_id: text("channel_id").notNull(),
  password_hash: text("password_hash"),
  revealed_at: integer("revealed_at"),
  created_at: integer("created_at").notNull(),
});
