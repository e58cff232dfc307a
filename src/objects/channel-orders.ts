/**
 * The ChannelAccount's order rows, idempotency keys and per-customer purchases (tables in
 * channel-account.schema.ts). Every saga (balance orders, checkout, top-up, refund) reads and
 * writes them through this module, so each rule is written once. All calls are synchronous
 * over the object's SQL: a caller's check and change stay one step.
 */
import { checkCustomerLimit, windowStart } from "../domain/limits";
import type { OrderLineSpec, OrderRecord } from "../domain/orders";

export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

export function loadOrder(sql: SqlStorage, orderId: string): OrderRecord | null {
  const row = sql.exec<{ record: string }>("SELECT record FROM orders WHERE id = ?", orderId).toArray()[0];
  return row ? (JSON.parse(row.record) as OrderRecord) : null;
}

export function saveOrder(sql: SqlStorage, order: OrderRecord): void {
  sql.exec(
    "INSERT OR REPLACE INTO orders (id, status, record, updated_at) VALUES (?, ?, ?, ?)",
    order.id,
    order.status,
    JSON.stringify(order),
    order.updated_at,
  );
}

/** Ids of orders still `pending` that nobody touched since `before` (left half-way by a crash). */
export function stalePendingOrders(sql: SqlStorage, before: number): string[] {
  return sql
    .exec<{ id: string }>("SELECT id FROM orders WHERE status = 'pending' AND updated_at <= ?", before)
    .toArray()
    .map((r) => r.id);
}

/** When the oldest pending order was last touched, or null. */
export function oldestPending(sql: SqlStorage): number | null {
  return sql.exec<{ t: number | null }>("SELECT MIN(updated_at) AS t FROM orders WHERE status = 'pending'").one().t;
}

export interface IdempotencyRecord {
  request_hash: string;
  order_id: string;
}

export function findIdempotency(sql: SqlStorage, key: string): IdempotencyRecord | null {
  return (
    sql
      .exec<{ request_hash: string; order_id: string }>(
        "SELECT request_hash, order_id FROM idempotency WHERE key = ?",
        key,
      )
      .toArray()[0] ?? null
  );
}

export function rememberIdempotency(sql: SqlStorage, key: string, requestHash: string, orderId: string, now: number) {
  sql.exec(
    "INSERT INTO idempotency (key, request_hash, order_id, created_at) VALUES (?, ?, ?, ?)",
    key,
    requestHash,
    orderId,
    now,
  );
}

export function forgetIdempotencyBefore(sql: SqlStorage, before: number): void {
  sql.exec("DELETE FROM idempotency WHERE created_at < ?", before);
}

export type CustomerLimitRefusal = { ok: false; reason: "per_customer_limit"; product_id: string; limit: number };

/** The first line that would take the customer over its product's per-customer limit, or null. */
export function customerLimitRefusal(
  sql: SqlStorage,
  customerRef: string,
  lines: OrderLineSpec[],
  now: number,
): CustomerLimitRefusal | null {
  for (const line of lines) {
    const bought = sql
      .exec<{ n: number }>(
        "SELECT COALESCE(SUM(quantity), 0) AS n FROM purchases WHERE customer_ref = ? AND product_id = ? AND at >= ?",
        customerRef,
        line.product_id,
        windowStart(line, now),
      )
      .one().n;
    const verdict = checkCustomerLimit(line, bought, line.quantity);
    if (!verdict.ok)
      return { ok: false, reason: "per_customer_limit", product_id: line.product_id, limit: verdict.limit };
  }
  return null;
}

/** Counts the order's lines toward the customer's limits. */
export function recordPurchases(
  sql: SqlStorage,
  orderId: string,
  customerRef: string,
  lines: { product_id: string; quantity: number }[],
  now: number,
): void {
  for (const line of lines) {
    sql.exec(
      "INSERT INTO purchases (order_id, product_id, customer_ref, quantity, at) VALUES (?, ?, ?, ?, ?)",
      orderId,
      line.product_id,
      customerRef,
      line.quantity,
      now,
    );
  }
}

/** An order that did not end up sold (failed, cancelled, refunded) no longer counts toward the limits. */
export function releasePurchases(sql: SqlStorage, orderId: string): void {
  sql.exec("DELETE FROM purchases WHERE order_id = ?", orderId);
}

export function hasPurchases(sql: SqlStorage, orderId: string): boolean {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM purchases WHERE order_id = ?", orderId).one().n > 0;
}
