/**
 * SQLite schema of one ChannelAccount Durable Object (`idFromName(channel_id)`): every table it owns,
 * in one place. The object is the only writer of these rows; D1 holds projections of them.
 *
 * Version 1. The version is kept in `meta.schema_version`; a change to a table bumps it and adds the
 * migration step beside this file (DO storage has no migration runner: the constructor applies it).
 *
 * table            written by                      what
 * meta             outbox.ts                       key/value: outbox_seq (event high-water mark), schema_version
 * idempotency      channel-orders.ts               key → request_hash, order_id, created_at; kept ≥ 24 h.
 *                                                  Order keys as sent, checkout keys prefixed `checkout:`
 * orders           channel-orders.ts               id → status, record (JSON OrderRecord: lines, totals,
 *                                                  shards; never codes), updated_at
 * purchases        channel-orders.ts               (order_id, product_id, customer_ref, quantity, at):
 *                                                  per-customer limits; rows of failed/cancelled/refunded
 *                                                  orders are deleted
 * account          channel-balance.ts              one row: balance, credit_limit, reserved (minor units),
 *                                                  currency (set by the first top-up); reserved ≥ 0
 * topup_requests   channel-balance.ts              movement_id → request_hash: balance top-ups are idempotent
 * movements        channel-balance.ts              id → kind topup|order|refund|credit_limit, amount,
 *                                                  balance_after, order_id, note, actor, created_at
 * topups           channel-topup.ts                one row per direct top-up order: status
 *                                                  processing|succeeded|failed, attempts, dispatched,
 *                                                  enqueued, provider_ref, last_error, refund_id, late_success
 * checkouts        channel-checkout*.ts,           order_id → state (CheckoutState), gateway, payment_id,
 *                  channel-payment.ts              ttl_ms, expires_at, holds (JSON shard per line), paid
 *                                                  (JSON gateway payment), late, gateway_refunded
 * order_refunds    channel-refund.ts,              order_id → refund_id, state, record (JSON refund)
 *                  channel-payment.ts
 * refund_requests  channel-refund.ts               idempotency of POST /v1/orders/{id}/refund
 * outbox           outbox.ts                       events not yet sent to the EVENTS queue
 */
import { OUTBOX_SCHEMA } from "./outbox";

export const CHANNEL_ACCOUNT_SCHEMA_VERSION = 1;

export const CHANNEL_ACCOUNT_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  order_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, status TEXT NOT NULL, record TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS orders_pending ON orders (status, updated_at);
CREATE TABLE IF NOT EXISTS purchases (
  order_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  customer_ref TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS purchases_customer ON purchases (customer_ref, product_id, at);
${OUTBOX_SCHEMA}
CREATE TABLE IF NOT EXISTS account (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  balance INTEGER NOT NULL DEFAULT 0,
  credit_limit INTEGER NOT NULL DEFAULT 0,
  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  currency TEXT
);
INSERT OR IGNORE INTO account (id) VALUES (1);
CREATE TABLE IF NOT EXISTS topup_requests (movement_id TEXT PRIMARY KEY, request_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS movements (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  amount INTEGER NOT NULL,
  balance_after INTEGER NOT NULL,
  order_id TEXT,
  note TEXT,
  actor TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS topups (
  order_id TEXT PRIMARY KEY,
  channel_id TEXT NOT NULL,
  line INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  dispatched INTEGER NOT NULL DEFAULT 0,
  enqueued INTEGER NOT NULL DEFAULT 0,
  provider_ref TEXT,
  last_error TEXT,
  refund_id TEXT,
  late_success INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS topups_unsent ON topups (enqueued);
CREATE TABLE IF NOT EXISTS checkouts (
  order_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  gateway TEXT NOT NULL,
  payment_id TEXT NOT NULL,
  ttl_ms INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  holds TEXT NOT NULL,
  paid TEXT,
  late INTEGER NOT NULL DEFAULT 0,
  gateway_refunded INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS checkouts_state ON checkouts (state, expires_at);
CREATE TABLE IF NOT EXISTS order_refunds (
  order_id TEXT PRIMARY KEY,
  refund_id TEXT NOT NULL,
  state TEXT NOT NULL,
  record TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refund_requests (
  key TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  order_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '${CHANNEL_ACCOUNT_SCHEMA_VERSION}');
`;
