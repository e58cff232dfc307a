/**
 * SQLite schema of one SkuPool Durable Object (`sku:<product_id>:<shard>`).
 * The pool is the only writer of its codes: every state change happens here, inside
 * one synchronous block, together with its outbox event.
 *
 * meta         key/value: ref (product_id, shard), outbox_seq (event sequence high-water mark), schema_version,
 *              reencrypt (the key re-encryption job, see sku-pool-reencrypt.ts)
 * codes        one row per code. Never plaintext:
 *   idx          blind index, keyed HMAC-SHA256 of the code (security/code-crypto digestCode; UNIQUE: dedup inside the product)
 *   sealed       AES-256-GCM of {display code, PIN}, bound to idx; key_id names the key
 *   last4        last four characters, for support
 *   pin_hash     HMAC of (idx, PIN) for `card` products, compared without decrypting
 *   status       staged | available | held | issued | redeemed | voided (see domain/code-state)
 *   order_id, line, hold_id, channel_id, issued_at, expires_at, redeemed_at, voided_at
 *   pin_failures, locked   wrong-PIN counter; 5 locks the card
 * issues       (order_id, line) → quantity, state issued|returned: issuing is idempotent by order line
 * holds        hold_id → quantity, expires_at, state held|confirmed|released|expired, order_id
 * redemptions  id → code_id, redeemer, channel_id, redeemed_at, reversed_at
 * jobs         background generation: batch_id → rule, total, done, status running|completed|failed
 * allocations  per-channel quota of this shard: DDL and rules in sku-pool-allocations.ts
 * frozen_orders  order_id → refund_id, at: a refund froze this order's codes here (no redemption) until it
 *              voids them or thaws them (see sku-pool-refund.ts)
 * outbox       see objects/outbox.ts
 *
 * Version 2 (2: frozen_orders), kept in `meta.schema_version`; a change to a table bumps it and adds the migration step
 * beside this file (DO storage has no migration runner: the constructor applies it).
 */
import { OUTBOX_SCHEMA } from "./outbox";

export const SKU_POOL_SCHEMA_VERSION = 2;

export const SKU_POOL_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
  id INTEGER PRIMARY KEY,
  idx TEXT NOT NULL UNIQUE,
  sealed TEXT NOT NULL,
  key_id TEXT NOT NULL,
  last4 TEXT NOT NULL,
  pin_hash TEXT,
  batch_id TEXT NOT NULL,
  status TEXT NOT NULL,
  order_id TEXT,
  line INTEGER,
  hold_id TEXT,
  channel_id TEXT,
  issued_at INTEGER,
  expires_at INTEGER,
  redeemed_at INTEGER,
  voided_at INTEGER,
  pin_failures INTEGER NOT NULL DEFAULT 0,
  locked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS codes_status ON codes (status, id);
CREATE INDEX IF NOT EXISTS codes_order ON codes (order_id, line) WHERE order_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS codes_hold ON codes (hold_id) WHERE hold_id IS NOT NULL;
-- No index on batch_id: publishing a batch scans once per batch, while an index would cost every insert.
CREATE TABLE IF NOT EXISTS issues (
  order_id TEXT NOT NULL,
  line INTEGER NOT NULL,
  quantity INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (order_id, line)
);
CREATE TABLE IF NOT EXISTS holds (
  hold_id TEXT PRIMARY KEY,
  quantity INTEGER NOT NULL,
  channel_id TEXT,
  expires_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  order_id TEXT
);
CREATE INDEX IF NOT EXISTS holds_expiry ON holds (state, expires_at);
CREATE TABLE IF NOT EXISTS redemptions (
  id TEXT PRIMARY KEY,
  code_id INTEGER NOT NULL,
  redeemer TEXT,
  channel_id TEXT,
  redeemed_at INTEGER NOT NULL,
  reversed_at INTEGER
);
CREATE TABLE IF NOT EXISTS jobs (
  batch_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  rule TEXT NOT NULL,
  total INTEGER NOT NULL,
  done INTEGER NOT NULL,
  status TEXT NOT NULL,
  error TEXT
);
CREATE TABLE IF NOT EXISTS frozen_orders (order_id TEXT PRIMARY KEY, refund_id TEXT NOT NULL, at INTEGER NOT NULL);
${OUTBOX_SCHEMA}
INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '${SKU_POOL_SCHEMA_VERSION}');
`;

export type CodeRow = {
  id: number;
  idx: string;
  sealed: string;
  key_id: string;
  last4: string;
  pin_hash: string | null;
  status: string;
  order_id: string | null;
  /** The channel it was issued to (null until issued). */
  channel_id: string | null;
  expires_at: number | null;
  redeemed_at: number | null;
  pin_failures: number;
  locked: number;
};

/** A code ready to store: everything derived, nothing in clear but last4. */
export interface PreparedCode {
  idx: string;
  sealed: string;
  last4: string;
  pin_hash: string | null;
}
