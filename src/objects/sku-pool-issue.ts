/**
 * Issuing codes inside one SkuPool: straight to an order line, or through a hold that a
 * checkout confirms or lets expire. Synchronous over the pool's SQL: each function's
 * checks and changes are one step, with the event written in the same transaction.
 * A channel sells from its quota (held codes count against it), the root from unallocated stock.
 */

import { codeTransition } from "../domain/code-state";
import { expiryFor, toIso, type Validity } from "../domain/validity";
import { recordEvent } from "./outbox";
import * as quotas from "./sku-pool-allocations";

const ISSUE = codeTransition("issue");
const RETURN = codeTransition("return");
const HOLD = codeTransition("hold");
const RELEASE = codeTransition("release");
const CONFIRM = codeTransition("confirm");

export type IssueRefusal =
  | { ok: false; reason: "out_of_stock" | "quota_exceeded"; available: number }
  | { ok: false; reason: "order_returned" };

const ids = (sql: SqlStorage, query: string, ...binds: SqlStorageValue[]) =>
  sql
    .exec<{ id: number }>(query, ...binds)
    .toArray()
    .map((r) => r.id);

/** Rows changed by the statement just run (rowsWritten also counts index writes). */
export function changed(sql: SqlStorage, cursor: SqlStorageCursor<Record<string, SqlStorageValue>>): number {
  cursor.toArray();
  return sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
}

/** Picks `quantity` available codes and takes them off the channel's quota, or says why not. */
function take(sql: SqlStorage, channelId: string, quantity: number): { ok: true; ids: number[] } | IssueRefusal {
  const picked = ids(sql, "SELECT id FROM codes WHERE status = 'available' ORDER BY id LIMIT ?", quantity);
  if (picked.length < quantity) return { ok: false, reason: "out_of_stock", available: picked.length };
  if (!quotas.consumeQuota(sql, channelId, quantity))
    return { ok: false, reason: "quota_exceeded", available: Math.max(0, quotas.sellable(sql, channelId)) };
  return { ok: true, ids: picked };
}

function recordIssued(
  sql: SqlStorage,
  source: string,
  productId: string,
  orderId: string,
  channelId: string,
  codeIds: number[],
  expiresAt: number | null,
  now: number,
): void {
  const codes = sql
    .exec<{ idx: string }>(
      "SELECT idx FROM codes WHERE id IN (SELECT value FROM json_each(?))",
      JSON.stringify(codeIds),
    )
    .toArray();
  recordEvent(
    sql,
    source,
    "code.issued",
    {
      product_id: productId,
      order_id: orderId,
      channel_id: channelId,
      code_indexes: codes.map((c) => c.idx),
      issued_at: toIso(now),
      expires_at: toIso(expiresAt),
    },
    now,
  );
}

export interface IssueRequest {
  orderId: string;
  line: number;
  quantity: number;
  channelId: string;
  validity: Validity;
}

/** Issues an order line once; a repeat of the same line is a no-op (the caller reveals the same codes). */
export function issueLine(
  sql: SqlStorage,
  source: string,
  productId: string,
  req: IssueRequest,
  now: number,
): { ok: true } | IssueRefusal {
  const done = sql
    .exec<{ state: string }>("SELECT state FROM issues WHERE order_id = ? AND line = ?", req.orderId, req.line)
    .toArray()[0];
  // Once any line of the order was returned to this pool (the order failed), no line of it issues here again.
  if (done?.state === "returned" || wasReturned(sql, req.orderId)) return { ok: false, reason: "order_returned" };
  if (done) return { ok: true };
  const taken = take(sql, req.channelId, req.quantity);
  if (!taken.ok) return taken;
  const expiresAt = expiryFor(req.validity, now);
  sql.exec(
    `UPDATE codes SET ${ISSUE.set}, order_id = ?, line = ?, channel_id = ?, issued_at = ?, expires_at = ?
      WHERE id IN (SELECT value FROM json_each(?)) AND ${ISSUE.guard}`,
    req.orderId,
    req.line,
    req.channelId,
    now,
    expiresAt,
    JSON.stringify(taken.ids),
  );
  sql.exec(
    "INSERT INTO issues (order_id, line, quantity, state, created_at) VALUES (?, ?, ?, 'issued', ?)",
    req.orderId,
    req.line,
    req.quantity,
    now,
  );
  recordIssued(sql, source, productId, req.orderId, req.channelId, taken.ids, expiresAt, now);
  quotas.replenish(sql, source, productId, req.channelId, now);
  return { ok: true };
}

const wasReturned = (sql: SqlStorage, orderId: string) =>
  sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM issues WHERE order_id = ? AND state = 'returned'", orderId).one()
    .n > 0;

/** Puts an order's unredeemed codes back (the order failed elsewhere) and marks it so a late issue cannot happen. */
export function returnOrder(sql: SqlStorage, source: string, productId: string, orderId: string, now: number): number {
  const rows = sql
    .exec<{ idx: string; channel_id: string }>(
      "SELECT idx, channel_id FROM codes WHERE order_id = ? AND status = 'issued'",
      orderId,
    )
    .toArray();
  if (rows.length > 0) quotas.restoreQuota(sql, rows[0].channel_id, rows.length);
  sql.exec(
    `UPDATE codes SET ${RETURN.set}, order_id = NULL, line = NULL, channel_id = NULL, issued_at = NULL, expires_at = NULL
      WHERE order_id = ? AND ${RETURN.guard}`,
    orderId,
  );
  const lines = changed(sql, sql.exec("UPDATE issues SET state = 'returned' WHERE order_id = ?", orderId));
  if (lines === 0)
    sql.exec(
      "INSERT OR IGNORE INTO issues (order_id, line, quantity, state, created_at) VALUES (?, -1, 0, 'returned', ?)",
      orderId,
      now,
    );
  if (rows.length > 0)
    recordEvent(
      sql,
      source,
      "code.returned",
      { product_id: productId, order_id: orderId, code_indexes: rows.map((r) => r.idx) },
      now,
    );
  return rows.length;
}

export interface HoldRequest {
  holdId: string;
  quantity: number;
  ttlMs: number;
  channelId: string;
}

export function placeHold(
  sql: SqlStorage,
  source: string,
  productId: string,
  req: HoldRequest,
  now: number,
): { ok: true; expires_at: number } | IssueRefusal {
  const existing = sql
    .exec<{ expires_at: number }>("SELECT expires_at FROM holds WHERE hold_id = ?", req.holdId)
    .toArray()[0];
  if (existing) return { ok: true, expires_at: existing.expires_at };
  const taken = take(sql, req.channelId, req.quantity);
  if (!taken.ok) return taken;
  const expiresAt = now + req.ttlMs;
  sql.exec(
    `UPDATE codes SET ${HOLD.set}, hold_id = ?, channel_id = ? WHERE id IN (SELECT value FROM json_each(?)) AND ${HOLD.guard}`,
    req.holdId,
    req.channelId,
    JSON.stringify(taken.ids),
  );
  sql.exec(
    "INSERT INTO holds (hold_id, quantity, channel_id, expires_at, state) VALUES (?, ?, ?, ?, 'held')",
    req.holdId,
    req.quantity,
    req.channelId,
    expiresAt,
  );
  recordEvent(
    sql,
    source,
    "stock.held",
    { product_id: productId, hold_id: req.holdId, quantity: req.quantity, expires_at: toIso(expiresAt) },
    now,
  );
  return { ok: true, expires_at: expiresAt };
}

/** Ends a live hold: its codes go back on the shelf and its quota back to the channel. */
function endHold(
  sql: SqlStorage,
  source: string,
  productId: string,
  holdId: string,
  state: "released" | "expired",
  now: number,
): number {
  const hold = sql.exec<{ channel_id: string }>("SELECT channel_id FROM holds WHERE hold_id = ?", holdId).one();
  const n = changed(
    sql,
    sql.exec(
      `UPDATE codes SET ${RELEASE.set}, hold_id = NULL, channel_id = NULL WHERE hold_id = ? AND ${RELEASE.guard}`,
      holdId,
    ),
  );
  quotas.restoreQuota(sql, hold.channel_id, n);
  sql.exec("UPDATE holds SET state = ? WHERE hold_id = ?", state, holdId);
  recordEvent(
    sql,
    source,
    state === "released" ? "stock.released" : "stock.hold_expired",
    { product_id: productId, hold_id: holdId, quantity: n },
    now,
  );
  return n;
}

export function releaseHold(sql: SqlStorage, source: string, productId: string, holdId: string, now: number): number {
  const hold = sql.exec<{ state: string }>("SELECT state FROM holds WHERE hold_id = ?", holdId).toArray()[0];
  return hold?.state === "held" ? endHold(sql, source, productId, holdId, "released", now) : 0;
}

export function expireHolds(sql: SqlStorage, source: string, productId: string, now: number): void {
  for (const { hold_id } of sql
    .exec<{ hold_id: string }>("SELECT hold_id FROM holds WHERE state = 'held' AND expires_at <= ?", now)
    .toArray()) {
    endHold(sql, source, productId, hold_id, "expired", now);
  }
}

/** Turns a live hold into an issued order line; confirming twice is a no-op. Returns the order id whose codes to reveal. */
export function confirmHold(
  sql: SqlStorage,
  source: string,
  productId: string,
  req: { holdId: string; orderId: string; line: number; validity: Validity },
  now: number,
): { ok: true; orderId: string } | { ok: false; reason: "hold_not_found" | "hold_expired" } {
  const hold = sql
    .exec<{ state: string; expires_at: number; channel_id: string; order_id: string | null }>(
      "SELECT * FROM holds WHERE hold_id = ?",
      req.holdId,
    )
    .toArray()[0];
  if (!hold) return { ok: false, reason: "hold_not_found" };
  if (hold.state === "held" && hold.expires_at <= now) expireHolds(sql, source, productId, now);
  if (hold.state === "released" || hold.state === "expired" || (hold.expires_at <= now && hold.state === "held"))
    return { ok: false, reason: "hold_expired" };
  // Confirmed earlier, but the order was returned since (a fulfilment that failed part-way): its codes are gone.
  if (hold.state === "confirmed")
    return wasReturned(sql, hold.order_id!)
      ? { ok: false, reason: "hold_expired" }
      : { ok: true, orderId: hold.order_id! };
  const held = ids(sql, "SELECT id FROM codes WHERE hold_id = ? AND status = 'held'", req.holdId);
  const expiresAt = expiryFor(req.validity, now);
  sql.exec(
    `UPDATE codes SET ${CONFIRM.set}, order_id = ?, line = ?, issued_at = ?, expires_at = ?, hold_id = NULL
      WHERE id IN (SELECT value FROM json_each(?)) AND ${CONFIRM.guard}`,
    req.orderId,
    req.line,
    now,
    expiresAt,
    JSON.stringify(held),
  );
  sql.exec("UPDATE holds SET state = 'confirmed', order_id = ? WHERE hold_id = ?", req.orderId, req.holdId);
  sql.exec(
    "INSERT OR IGNORE INTO issues (order_id, line, quantity, state, created_at) VALUES (?, ?, ?, 'issued', ?)",
    req.orderId,
    req.line,
    held.length,
    now,
  );
  recordIssued(sql, source, productId, req.orderId, hold.channel_id, held, expiresAt, now);
  quotas.replenish(sql, source, productId, hold.channel_id, now);
  return { ok: true, orderId: req.orderId };
}
