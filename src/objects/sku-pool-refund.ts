/**
 * Refund steps inside one SkuPool: void an order's issued codes (refused when one is redeemed), and
 * undo exactly that void when another pool of the same order refused. Synchronous over the pool's SQL.
 */
import { codeTransition } from "../domain/code-state";
import { recordEvent } from "./outbox";

const VOID = codeTransition("void");
const UNVOID = codeTransition("unvoid");

export type VoidOrderResult = { ok: true; voided: number; at: number } | { ok: false; reason: "code_redeemed" };

/** Voids the order's issued codes at `now`, or none when one is redeemed; `check` only looks. */
export function voidOrder(
  sql: SqlStorage,
  source: string,
  orderId: string,
  reason: string,
  check: boolean,
  now: number,
): VoidOrderResult {
  const redeemed = sql
    .exec<{ n: number }>("SELECT COUNT(*) AS n FROM codes WHERE order_id = ? AND status = 'redeemed'", orderId)
    .one().n;
  if (redeemed > 0) return { ok: false, reason: "code_redeemed" };
  if (check) return { ok: true, voided: 0, at: now };
  const rows = sql
    .exec<{ idx: string; last4: string }>(
      "SELECT idx, last4 FROM codes WHERE order_id = ? AND status = 'issued'",
      orderId,
    )
    .toArray();
  sql.exec(`UPDATE codes SET ${VOID.set}, voided_at = ? WHERE order_id = ? AND ${VOID.guard}`, now, orderId);
  for (const r of rows)
    recordEvent(sql, source, "code.voided", { code_index: r.idx, last4: r.last4, order_id: orderId, reason }, now);
  return { ok: true, voided: rows.length, at: now };
}

/** Restores the codes `voidOrder` voided at `at` (a refund refused in another pool of the order). */
export function unvoidOrder(sql: SqlStorage, source: string, orderId: string, at: number): number {
  const rows = sql
    .exec<{ idx: string; last4: string }>(
      "SELECT idx, last4 FROM codes WHERE order_id = ? AND status = 'voided' AND voided_at = ?",
      orderId,
      at,
    )
    .toArray();
  sql.exec(
    `UPDATE codes SET ${UNVOID.set}, voided_at = NULL WHERE order_id = ? AND ${UNVOID.guard} AND voided_at = ?`,
    orderId,
    at,
  );
  for (const r of rows)
    recordEvent(sql, source, "code.unvoided", {
      code_index: r.idx,
      last4: r.last4,
      order_id: orderId,
      reason: "refund_refused",
    });
  return rows.length;
}
