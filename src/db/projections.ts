/**
 * The D1 projections the events consumer writes (src/queues/projections.ts maps each event onto them), and its
 * bookkeeping: processed_events (each event applied once) and source_progress (events applied per source).
 * The builders return statements without running them: the consumer puts an event's statements and the ledger
 * postings into one D1 batch (one transaction). Each is idempotent on its own (upserts, `version < seq` guards).
 */

/** An order as projected from its order.* event (times in epoch ms). */
export interface ProjectedOrder {
  id: string;
  channel_id: string;
  status: string;
  customer_ref: string | null;
  external_ref: string | null;
  currency: string;
  total_amount: number;
  quantity: number;
  /** JSON array of the order's lines. */
  items: string;
  failure_reason: string | null;
  created_at: number | null;
  updated_at: number | null;
}

/** Inserts an order, or takes the status, failure reason and update time of a change at least as recent. */
export function upsertOrder(db: D1Database, o: ProjectedOrder): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO orders (id, channel_id, status, customer_ref, external_ref, currency, total_amount, quantity, items, failure_reason, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, failure_reason = excluded.failure_reason, updated_at = excluded.updated_at
             WHERE excluded.updated_at >= orders.updated_at`,
    )
    .bind(
      o.id,
      o.channel_id,
      o.status,
      o.customer_ref,
      o.external_ref,
      o.currency,
      o.total_amount,
      o.quantity,
      o.items,
      o.failure_reason,
      o.created_at,
      o.updated_at,
    );
}

export interface ProjectedRefund {
  id: string;
  order_id: string;
  channel_id: string;
  amount: number;
  currency: string;
  to: string;
  gateway: string | null;
  gateway_refund_id: string | null;
  reason: string;
  /** 1 if the order had been fulfilled. */
  was_fulfilled: number;
  created_at: number;
}

/** Inserts a refund into finance's list (a second insert of the same refund is ignored). */
export function insertRefund(db: D1Database, r: ProjectedRefund): D1PreparedStatement {
  return db
    .prepare(
      `INSERT OR IGNORE INTO refunds (id, order_id, channel_id, amount, currency, "to", gateway, gateway_refund_id, reason, was_fulfilled, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
    )
    .bind(
      r.id,
      r.order_id,
      r.channel_id,
      r.amount,
      r.currency,
      r.to,
      r.gateway,
      r.gateway_refund_id,
      r.reason,
      r.was_fulfilled,
      r.created_at,
    );
}

/** Sets columns of the indexed codes whose version is older than `seq` (?1 = seq, ?2 = the codes, ?3… = `binds`). */
function setCodes(
  db: D1Database,
  seq: number,
  codeIndexes: unknown[],
  set: string,
  ...binds: unknown[]
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE code_index SET ${set}, version = ?1 WHERE blind_index IN (SELECT value FROM json_each(?2)) AND version < ?1`,
    )
    .bind(seq, JSON.stringify(codeIndexes), ...binds);
}

/** Codes issued to an order line. */
export function codesIssued(
  db: D1Database,
  seq: number,
  codeIndexes: unknown[],
  i: { orderId: string; channelId: string; issuedAt: number | null; expiresAt: number | null },
): D1PreparedStatement {
  return setCodes(
    db,
    seq,
    codeIndexes,
    "status = 'issued', order_id = ?3, channel_id = ?4, issued_at = ?5, expires_at = ?6",
    i.orderId,
    i.channelId,
    i.issuedAt,
    i.expiresAt,
  );
}

/** Codes returned to the pool (available, no order). */
export function codesReturned(db: D1Database, seq: number, codeIndexes: unknown[]): D1PreparedStatement {
  return setCodes(
    db,
    seq,
    codeIndexes,
    "status = 'available', order_id = NULL, channel_id = NULL, issued_at = NULL, expires_at = NULL",
  );
}

/** Codes voided. */
export function codesVoided(db: D1Database, seq: number, codeIndexes: unknown[]): D1PreparedStatement {
  return setCodes(db, seq, codeIndexes, "status = 'voided'");
}

/** Voided codes issued again. */
export function codesUnvoided(db: D1Database, seq: number, codeIndexes: unknown[]): D1PreparedStatement {
  return setCodes(db, seq, codeIndexes, "status = 'issued'");
}

/** Redeemed codes issued again after their redemption was reversed. */
export function codesRedemptionReversed(db: D1Database, seq: number, codeIndexes: unknown[]): D1PreparedStatement {
  return setCodes(db, seq, codeIndexes, "status = 'issued', redeemed_at = NULL");
}

/** Codes redeemed at `redeemedAt`. */
export function codesRedeemed(
  db: D1Database,
  seq: number,
  codeIndexes: unknown[],
  redeemedAt: number | null,
): D1PreparedStatement {
  return setCodes(db, seq, codeIndexes, "status = 'redeemed', redeemed_at = ?3", redeemedAt);
}

/** Marks a redemption reversed. */
export function reverseRedemption(
  db: D1Database,
  redemptionId: string,
  reversedAt: number | null,
): D1PreparedStatement {
  return db.prepare("UPDATE redemptions SET reversed_at = ?1 WHERE id = ?2").bind(reversedAt, redemptionId);
}

/** Inserts a redemption, or sets the order of one already recorded at redemption time. */
export function upsertRedemption(
  db: D1Database,
  r: {
    id: string;
    productId: string;
    shard: number;
    channelId: string;
    orderId: string | null;
    last4: string;
    redeemer: string | null;
    redeemedAt: number | null;
  },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO redemptions (id, product_id, shard, channel_id, order_id, last4, redeemer, redeemed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id`,
    )
    .bind(r.id, r.productId, r.shard, r.channelId, r.orderId, r.last4, r.redeemer, r.redeemedAt);
}

/** Inserts a stock alert (stock.low, stock.refilled) once per event. */
export function insertStockEvent(
  db: D1Database,
  e: {
    id: string;
    productId: string;
    channelId: string;
    type: string;
    quantity: number | null;
    quota: number;
    createdAt: number;
  },
): D1PreparedStatement {
  return db
    .prepare(
      "INSERT OR IGNORE INTO stock_events (id, product_id, channel_id, type, quantity, quota, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(e.id, e.productId, e.channelId, e.type, e.quantity, e.quota, e.createdAt);
}

/** Records an event as applied (a second record of the same event is ignored, and changes nothing). */
export function markProcessed(db: D1Database, eventId: string, type: string, processedAt: number): D1PreparedStatement {
  return db
    .prepare("INSERT OR IGNORE INTO processed_events (event_id, type, processed_at) VALUES (?1, ?2, ?3)")
    .bind(eventId, type, processedAt);
}

/** Counts one more applied event of `source`, only if the statement just before it inserted (changes() = 1). */
export function countApplied(db: D1Database, source: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO source_progress (source, applied) SELECT ?1, 1 WHERE changes() = 1
       ON CONFLICT (source) DO UPDATE SET applied = applied + 1`,
    )
    .bind(source);
}

/** Which of these events were already applied. */
export async function appliedEventIds(db: D1Database, ids: string[]): Promise<Set<string>> {
  const { results } = await db
    .prepare("SELECT event_id FROM processed_events WHERE event_id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(ids))
    .all<{ event_id: string }>();
  return new Set(results.map((r) => r.event_id));
}
