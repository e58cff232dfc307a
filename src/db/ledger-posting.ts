/**
 * The D1 statements the ledger poster writes (docs/ledger.md). They are returned, not run: the events consumer
 * puts them into the same D1 batch as the projections, so an event's ledger rows commit with its processed_events
 * row (a batch is one transaction).
 *
 * Exactly once: a transaction is `INSERT OR IGNORE`d by its unique source key and gets a fresh random id; its
 * entries are inserted only if a transaction with that id exists, i.e. only by the delivery whose insert won.
 */
import { newId } from "../domain/ids";
import type { Posting } from "../domain/ledger";

/** The order's recognition state as "active:recognised" (SQL, for the guard; same as `loadRecognitions`). */
export const RECOGNITION_STATE = (orderParam: string) =>
  `(SELECT COALESCE(SUM(CASE t.type WHEN 'recognition' THEN 1 ELSE -1 END), 0) || ':' || (-COALESCE(SUM(e.amount), 0))
    FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn_id = t.id AND e.account_id = 'merchant:revenue'
    WHERE t.order_id = ${orderParam} AND t.type IN ('recognition', 'recognition_reversal'))`;

/** A posting's condition inside the D1 transaction: the order's state is unchanged, or a transaction exists. */
export type Guard = { order_id: string; state: string } | { requires: string };

/**
 * Postings → statements: accounts (created on first use), the transaction, its entries. With a guard the
 * transaction (and so its entries) is inserted only if the guard holds inside the D1 transaction.
 */
export function postingStatements(
  db: D1Database,
  p: Posting,
  postedAt = Date.now(),
  guard?: Guard,
  /** The transaction's id, when the caller guards statements of its own on it (the cockpit's roll-ups). */
  txnId = newId("txn", p.created_at),
): D1PreparedStatement[] {
  const values = [
    txnId,
    p.source_key,
    p.type,
    p.event_id,
    p.order_id,
    p.channel_id,
    p.currency,
    p.memo,
    p.created_at,
    postedAt,
    p.units ?? null,
  ];
  const insert =
    "INSERT OR IGNORE INTO ledger_transactions (id, source_key, type, event_id, order_id, channel_id, currency, memo, created_at, posted_at, units) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11";
  const txn = !guard
    ? db.prepare(insert).bind(...values)
    : "requires" in guard
      ? db
          .prepare(`${insert} WHERE EXISTS (SELECT 1 FROM ledger_transactions WHERE source_key = ?12)`)
          .bind(...values, guard.requires)
      : db.prepare(`${insert} WHERE ${RECOGNITION_STATE("?12")} = ?13`).bind(...values, guard.order_id, guard.state);
  const accounts = [
    ...new Map(p.legs.map((l) => [l.account, { id: l.account, owner: l.owner, kind: l.kind }])).values(),
  ];
  const entries = p.legs.map((l) => ({ a: l.account, c: l.channel_id, m: l.amount }));
  return [
    db
      .prepare(
        "INSERT OR IGNORE INTO ledger_accounts (id, owner, kind, created_at) SELECT json_extract(value, '$.id'), json_extract(value, '$.owner'), json_extract(value, '$.kind'), ?2 FROM json_each(?1)",
      )
      .bind(JSON.stringify(accounts), postedAt),
    txn,
    db
      .prepare(
        `INSERT OR IGNORE INTO ledger_entries (txn_id, line, account_id, channel_id, amount, currency, created_at)
       SELECT ?1, CAST(key AS INTEGER), json_extract(value, '$.a'), json_extract(value, '$.c'), json_extract(value, '$.m'), ?3, ?4 FROM json_each(?2)
       WHERE EXISTS (SELECT 1 FROM ledger_transactions WHERE id = ?1)`,
      )
      .bind(txnId, JSON.stringify(entries), p.currency, p.created_at),
  ];
}

/**
 * Beside a guarded posting (source key `key`): if its guard fails, the event is parked (again) to be computed by a
 * later batch; if it posted and the event was parked, it is unparked.
 */
export function guardedParkStatements(
  db: D1Database,
  key: string,
  g: { eventId: string; orderId: string; body: string; waitsFor: string; dropAfter: number; parked: boolean },
  now: number,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT OR IGNORE INTO ledger_pending (event_id, order_id, body, reason, waits_for, drop_after, created_at) SELECT ?1, ?2, ?3, 'recognition_retry', ?4, ?5, ?6
       WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions WHERE source_key = ?7)`,
      )
      .bind(g.eventId, g.orderId, g.body, g.waitsFor, g.dropAfter, now, key),
    ...(g.parked
      ? [
          db
            .prepare(
              "DELETE FROM ledger_pending WHERE event_id = ?1 AND EXISTS (SELECT 1 FROM ledger_transactions WHERE source_key = ?2)",
            )
            .bind(g.eventId, key),
        ]
      : []),
  ];
}

/** Parks an event that cannot post yet in ledger_pending (a second park of the same event keeps the first). */
export function parkStatement(
  db: D1Database,
  p: {
    eventId: string;
    orderId: string;
    body: string;
    reason: string;
    passthroughAfter: number | null;
    waitsFor: string | null;
    dropAfter: number | null;
  },
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      "INSERT OR IGNORE INTO ledger_pending (event_id, order_id, body, reason, passthrough_after, waits_for, drop_after, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(p.eventId, p.orderId, p.body, p.reason, p.passthroughAfter, p.waitsFor, p.dropAfter, now);
}

/** Removes parked events that were posted (or dropped). */
export function unparkStatement(db: D1Database, eventIds: string[]): D1PreparedStatement {
  return db
    .prepare("DELETE FROM ledger_pending WHERE event_id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(eventIds));
}
