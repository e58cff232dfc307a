/**
 * Refund steps inside one SkuPool, freeze-then-void: a refund first freezes the order's codes in every
 * pool of the order (refused when one of them is redeemed), and voids them only once every pool has
 * agreed; if one refuses, it thaws the others. A frozen code cannot be redeemed, so the void phase can
 * never be refused, and a crash at any step leaves codes either frozen (the ChannelAccount's alarm
 * finishes or thaws the refund) or voided by a refund that completes: no code is lost.
 * Every step is synchronous over the pool's SQL and idempotent by refund id.
 */
import { codeTransition } from "../domain/code-state";
import { recordEvent } from "./outbox";

const VOID = codeTransition("void");

export type FreezeResult = { ok: true } | { ok: false; reason: "code_redeemed" };

/** Freezes the order's codes in this pool for `refundId`, unless one of them is redeemed. */
export function freezeOrder(sql: SqlStorage, orderId: string, refundId: string, now: number): FreezeResult {
  const redeemed = sql
    .exec<{ n: number }>("SELECT COUNT(*) AS n FROM codes WHERE order_id = ? AND status = 'redeemed'", orderId)
    .one().n;
  if (redeemed > 0) return { ok: false, reason: "code_redeemed" };
  sql.exec("INSERT OR REPLACE INTO frozen_orders (order_id, refund_id, at) VALUES (?, ?, ?)", orderId, refundId, now);
  return { ok: true };
}

/** Lifts `refundId`'s freeze (another pool of the order refused the refund). */
export function thawOrder(sql: SqlStorage, orderId: string, refundId: string): void {
  sql.exec("DELETE FROM frozen_orders WHERE order_id = ? AND refund_id = ?", orderId, refundId);
}

/** Whether a refund holds this order's codes frozen here (redemptions are refused meanwhile). */
export function isFrozen(sql: SqlStorage, orderId: string | null): boolean {
  if (orderId === null) return false;
  return sql.exec("SELECT 1 FROM frozen_orders WHERE order_id = ?", orderId).toArray().length > 0;
}

/**
 * Voids the order's issued codes frozen by `refundId` and lifts the freeze, in one step. Without the
 * freeze (a replay after this pool already voided) it voids nothing: the step is idempotent.
 */
export function voidFrozenOrder(
  sql: SqlStorage,
  source: string,
  orderId: string,
  refundId: string,
  reason: string,
  now: number,
): { voided: number } {
  const frozen = sql
    .exec("SELECT 1 FROM frozen_orders WHERE order_id = ? AND refund_id = ?", orderId, refundId)
    .toArray().length;
  if (!frozen) return { voided: 0 };
  const rows = sql
    .exec<{ idx: string; last4: string }>(
      "SELECT idx, last4 FROM codes WHERE order_id = ? AND status = 'issued'",
      orderId,
    )
    .toArray();
  sql.exec(`UPDATE codes SET ${VOID.set}, voided_at = ? WHERE order_id = ? AND ${VOID.guard}`, now, orderId);
  for (const r of rows)
    recordEvent(sql, source, "code.voided", { code_index: r.idx, last4: r.last4, order_id: orderId, reason }, now);
  thawOrder(sql, orderId, refundId);
  return { voided: rows.length };
}
