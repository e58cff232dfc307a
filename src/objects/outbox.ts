/**
 * Transactional outbox shared by the Durable Objects. `record` is synchronous so it
 * runs inside the same storage transaction as the state change it describes; `flush`
 * sends what is pending to the EVENTS queue and deletes only what was sent.
 *
 * Table `outbox` (one per object):
 *   seq        INTEGER PRIMARY KEY AUTOINCREMENT  order of events inside this object
 *   id         TEXT    event id (evt_…), consumers dedupe on it
 *   type       TEXT    e.g. code.issued
 *   body       TEXT    the JSON event, never a plaintext code
 */
import { newId } from "../domain/ids";

export const OUTBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL
);`;

export interface DomainEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  created_at: string;
  /** The object that wrote the event, e.g. "sku:prd_…" */
  source: string;
  /** Position in the source's stream; projections ignore older versions. */
  seq: number;
  data: T;
}

export function recordEvent(
  sql: SqlStorage,
  source: string,
  type: string,
  data: Record<string, unknown>,
  now = Date.now(),
): void {
  const id = newId("evt", now);
  // A high-water mark in meta keeps the sequence rising after flushed rows are deleted.
  const next = sql
    .exec<{ v: number }>(
      "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_seq'), 0) + 1 AS v",
    )
    .one().v;
  sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('outbox_seq', ?)", String(next));
  const event: DomainEvent = { id, type, created_at: new Date(now).toISOString(), source, seq: next, data };
  sql.exec("INSERT INTO outbox (seq, id, type, body) VALUES (?, ?, ?, ?)", next, id, type, JSON.stringify(event));
}

export function pendingEvents(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
}

/** Sends up to `max` events per queue batch until the outbox is empty. Returns how many were sent. */
export async function flushOutbox(sql: SqlStorage, queue: Queue, max = 100): Promise<number> {
  let sent = 0;
  for (;;) {
    const rows = sql
      .exec<{ seq: number; body: string }>("SELECT seq, body FROM outbox ORDER BY seq LIMIT ?", max)
      .toArray();
    if (rows.length === 0) return sent;
    await queue.sendBatch(rows.map((r) => ({ body: JSON.parse(r.body), contentType: "json" as const })));
    sql.exec("DELETE FROM outbox WHERE seq <= ?", rows[rows.length - 1].seq);
    sent += rows.length;
  }
}

/** How many events this object has written so far (its stream position); reconciliation compares it with what D1 applied. */
export function outboxPosition(sql: SqlStorage): number {
  return sql
    .exec<{ v: number }>("SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_seq'), 0) AS v")
    .one().v;
}
