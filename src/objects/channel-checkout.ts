/**
 * Consumer checkout inside a channel's ChannelAccount (the saga logic; the class only delegates).
 * A checkout order holds its codes in the SkuPools (TTL), waits in `pending_payment`, and is
 * decided by the first verified gateway notice: the decision (is it still unpaid?) is one
 * synchronous step, so a notice repeated 20 times pays and fulfils the order once. The alarm
 * cancels unpaid orders at expiry; a payment after that re-issues if stock remains, else refunds.
 *
 * Tables (in the ChannelAccount's SQLite):
 *   checkouts  order_id → state holding|awaiting|fulfilling|fulfilled|failed|cancelled|refunded,
 *              gateway, payment_id (ours, pay_…), expires_at, holds (JSON shard per line), paid (JSON
 *              gateway payment), late (paid after cancel), gateway_refunded (a refund notice came first)
 */

import { newId } from "../domain/ids";
import { checkCustomerLimit, windowStart } from "../domain/limits";
import { type OrderLineSpec, type OrderRecord, orderTotal, shardOrder } from "../domain/orders";
import { gateways } from "../gateways/registry";
import type { GatewayName, VerifiedNotice } from "../gateways/types";
import { publicOrder } from "./channel-account";
import { recordEvent } from "./outbox";
import { skuPool } from "./sku-pool";

export const CHECKOUT_SCHEMA = `
CREATE TABLE IF NOT EXISTS checkouts (
  order_id TEXT PRIMARY KEY, state TEXT NOT NULL, gateway TEXT NOT NULL, payment_id TEXT NOT NULL, ttl_ms INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, holds TEXT NOT NULL, paid TEXT, late INTEGER NOT NULL DEFAULT 0, gateway_refunded INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS checkouts_state ON checkouts (state, expires_at);
CREATE TABLE IF NOT EXISTS order_refunds (order_id TEXT PRIMARY KEY, refund_id TEXT NOT NULL, state TEXT NOT NULL, record TEXT, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refund_requests (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, order_id TEXT NOT NULL, created_at INTEGER NOT NULL);
`;

export interface Host {
  sql: SqlStorage;
  env: Env;
  ctx: DurableObjectState;
}
export type CheckoutRow = {
  order_id: string;
  state: string;
  gateway: GatewayName;
  payment_id: string;
  ttl_ms: number;
  expires_at: number;
  holds: string;
  paid: string | null;
  late: number;
  gateway_refunded: number;
  updated_at: number;
};
export interface CheckoutInput {
  channelId: string;
  idempotencyKey: string;
  requestHash: string;
  customerRef: string | null;
  lines: OrderLineSpec[];
  gateway: GatewayName;
  ttlMs: number;
}
export type CheckoutResult =
  | { ok: true; order: OrderRecord; checkout: CheckoutRow; replayed: boolean }
  | { ok: false; reason: "idempotency_mismatch" }
  | { ok: false; reason: "per_customer_limit"; product_id: string; limit: number }
  | { ok: false; reason: "out_of_stock" | "quota_exceeded"; product_id: string; available: number; order_id: string };
export type NoticeOutcome =
  | "accepted"
  | "duplicate"
  | "double_payment"
  | "rejected_amount"
  | "rejected_currency"
  | "rejected_order"
  | "late_fulfilled"
  | "late_refunded"
  | "refunded_at_gateway"
  | "refund_noted"
  | "ignored";

/** Fulfilment after a hold expired or stock ran out: a stuck `fulfilling` row is driven again after this. */
const STALE_FULFILLING_MS = 30_000;
const inflight = new Map<string, Promise<CheckoutResult>>();
const fulfilling = new Map<string, Promise<NoticeOutcome>>();

export const holdId = (orderId: string, line: number) => `hld_${orderId.slice(4)}_${line}`;
export const loadOrder = (sql: SqlStorage, id: string) => {
  const row = sql.exec<{ record: string }>("SELECT record FROM orders WHERE id = ?", id).toArray()[0];
  return row ? (JSON.parse(row.record) as OrderRecord) : null;
};
export const saveOrder = (sql: SqlStorage, o: OrderRecord) =>
  sql.exec(
    "INSERT OR REPLACE INTO orders (id, status, record, updated_at) VALUES (?, ?, ?, ?)",
    o.id,
    o.status,
    JSON.stringify(o),
    o.updated_at,
  );
export const loadCheckout = (sql: SqlStorage, id: string) =>
  sql.exec<CheckoutRow>("SELECT * FROM checkouts WHERE order_id = ?", id).toArray()[0] ?? null;
const setCheckout = (sql: SqlStorage, id: string, fields: Partial<CheckoutRow>) => {
  const keys = Object.keys(fields);
  sql.exec(
    `UPDATE checkouts SET ${keys.map((k) => `${k} = ?`).join(", ")}, updated_at = ? WHERE order_id = ?`,
    ...keys.map((k) => (fields as Record<string, SqlStorageValue>)[k]),
    Date.now(),
    id,
  );
};
const event = (h: Host, o: OrderRecord, type: string, extra: Record<string, unknown> = {}) => {
  recordEvent(h.sql, `channel:${o.channel_id}`, type, { order: publicOrder(o), ...extra });
  wakeAt(h, Date.now());
};
/** Moves the alarm earlier, never later (the alarm also flushes the outbox). */
export function wakeAt(h: Host, at: number): void {
  void h.ctx.storage
    .getAlarm()
    .then((current) => (current === null || current > at ? h.ctx.storage.setAlarm(at) : undefined));
}
const setStatus = (
  h: Host,
  o: OrderRecord,
  status: OrderRecord["status"],
  failure: string | null = null,
): OrderRecord => {
  const next = { ...o, status, failure_reason: failure, updated_at: Date.now() };
  saveOrder(h.sql, next);
  return next;
};

/** Creates the order (pending_payment) and holds its codes, once per idempotency key. */
export function beginCheckout(h: Host, input: CheckoutInput): Promise<CheckoutResult> {
  const flightKey = `${input.channelId}|${input.idempotencyKey}`;
  const key = `checkout:${input.idempotencyKey}`;
  const seen = h.sql
    .exec<{ request_hash: string; order_id: string }>(
      "SELECT request_hash, order_id FROM idempotency WHERE key = ?",
      key,
    )
    .toArray()[0];
  if (seen && seen.request_hash !== input.requestHash)
    return Promise.resolve({ ok: false, reason: "idempotency_mismatch" });
  const running = inflight.get(flightKey);
  if (running) return running;
  if (seen) return placeHolds(h, seen.order_id, true);
  const now = Date.now();
  if (input.customerRef) {
    for (const line of input.lines) {
      const bought = h.sql
        .exec<{ n: number }>(
          "SELECT COALESCE(SUM(quantity), 0) AS n FROM purchases WHERE customer_ref = ? AND product_id = ? AND at >= ?",
          input.customerRef,
          line.product_id,
          windowStart(line, now),
        )
        .one().n;
      const verdict = checkCustomerLimit(line, bought, line.quantity);
      if (!verdict.ok)
        return Promise.resolve({
          ok: false,
          reason: "per_customer_limit",
          product_id: line.product_id,
          limit: verdict.limit,
        });
    }
  }
  const order: OrderRecord = {
    id: newId("ord", now),
    channel_id: input.channelId,
    status: "pending_payment",
    customer_ref: input.customerRef,
    external_ref: null,
    currency: input.lines[0].currency,
    total_amount: orderTotal(input.lines),
    lines: input.lines.map((l) => ({ ...l, shard: null })),
    failure_reason: null,
    funds: "none",
    created_at: now,
    updated_at: now,
  };
  h.sql.exec(
    "INSERT INTO idempotency (key, request_hash, order_id, created_at) VALUES (?, ?, ?, ?)",
    key,
    input.requestHash,
    order.id,
    now,
  );
  saveOrder(h.sql, order);
  h.sql.exec(
    "INSERT INTO checkouts (order_id, state, gateway, payment_id, ttl_ms, expires_at, holds, updated_at) VALUES (?, 'holding', ?, ?, ?, ?, ?, ?)",
    order.id,
    input.gateway,
    newId("pay", now),
    input.ttlMs,
    now + input.ttlMs,
    JSON.stringify(order.lines.map(() => null)),
    now,
  );
  if (input.customerRef) {
    for (const l of input.lines)
      h.sql.exec(
        "INSERT INTO purchases (order_id, product_id, customer_ref, quantity, at) VALUES (?, ?, ?, ?, ?)",
        order.id,
        l.product_id,
        input.customerRef,
        l.quantity,
        now,
      );
  }
  wakeAt(h, now + input.ttlMs);
  const promise = placeHolds(h, order.id, false).finally(() => inflight.delete(flightKey));
  inflight.set(flightKey, promise);
  return promise;
}

/** Holds every line (idempotent by hold id); on a refusal releases what it held and fails the order. */
async function placeHolds(h: Host, orderId: string, replayed: boolean): Promise<CheckoutResult> {
  const order = loadOrder(h.sql, orderId)!;
  const row = loadCheckout(h.sql, orderId)!;
  if (row.state !== "holding") return result(h, orderId, replayed);
  const holds = JSON.parse(row.holds) as (number | null)[];
  let expiresAt = Infinity;
  let refusal: { reason: "out_of_stock" | "quota_exceeded"; product_id: string; available: number } | null = null;
  for (let line = 0; line < order.lines.length && !refusal; line++) {
    const spec = order.lines[line];
    let available = 0;
    let reason: "out_of_stock" | "quota_exceeded" = "quota_exceeded";
    for (const shard of shardOrder(orderId, spec.shards)) {
      const ref = { productId: spec.product_id, shard };
      const r = await skuPool(h.env, ref).hold(ref, {
        holdId: holdId(orderId, line),
        quantity: spec.quantity,
        ttlMs: row.ttl_ms,
        channelId: order.channel_id,
      });
      if (r.ok) {
        holds[line] = shard;
        expiresAt = Math.min(expiresAt, Date.parse(r.expires_at));
        break;
      }
      available = Math.max(available, r.available);
      if (r.reason === "out_of_stock") reason = "out_of_stock";
    }
    if (holds[line] === null) refusal = { reason, product_id: spec.product_id, available };
  }
  if (refusal) await releaseHolds(h, order, holds);
  if (loadCheckout(h.sql, orderId)!.state === "holding") {
    if (refusal) {
      setCheckout(h.sql, orderId, { state: "failed", holds: JSON.stringify(holds) });
      h.sql.exec("DELETE FROM purchases WHERE order_id = ?", orderId);
      event(h, setStatus(h, order, "failed", refusal.reason), "order.failed");
    } else {
      const at = Number.isFinite(expiresAt) ? expiresAt : row.expires_at;
      setCheckout(h.sql, orderId, { state: "awaiting", holds: JSON.stringify(holds), expires_at: at });
      event(h, order, "order.pending_payment", {
        checkout: { gateway: row.gateway, payment_id: row.payment_id, expires_at: new Date(at).toISOString() },
      });
      wakeAt(h, at);
    }
  }
  return result(h, orderId, replayed);
}

function result(h: Host, orderId: string, replayed: boolean): CheckoutResult {
  const order = loadOrder(h.sql, orderId)!;
  const checkout = loadCheckout(h.sql, orderId)!;
  if (checkout.state === "failed") {
    const reason = order.failure_reason === "quota_exceeded" ? "quota_exceeded" : "out_of_stock";
    return { ok: false, reason, product_id: order.lines[0].product_id, available: 0, order_id: orderId };
  }
  return { ok: true, order, checkout, replayed };
}

async function releaseHolds(h: Host, order: OrderRecord, holds: (number | null)[]): Promise<void> {
  await Promise.all(
    order.lines.map((spec, line) => {
      const shard = holds[line];
      if (shard === null || shard === undefined) return Promise.resolve();
      const ref = { productId: spec.product_id, shard };
      return skuPool(h.env, ref).releaseHold(ref, holdId(order.id, line));
    }),
  );
}

/** Decides a verified notice for one of this channel's orders. The check and the change are one synchronous step. */
export function applyNotice(h: Host, n: VerifiedNotice): Promise<NoticeOutcome> | NoticeOutcome {
  const order = n.order_id ? loadOrder(h.sql, n.order_id) : null;
  const row = order ? loadCheckout(h.sql, order.id) : null;
  // Only a payment for an unknown order is refused (the gateway retries it, someone looks); other events are acknowledged.
  if (!order || !row || row.gateway !== n.gateway) return n.kind === "paid" ? "rejected_order" : "ignored";
  if (n.kind === "other") return "ignored";
  const paid = row.paid ? (JSON.parse(row.paid) as { payment_id: string | null }) : null;
  if (n.kind === "refunded") {
    // A refund notice before the payment notice: remember it, so the payment is not fulfilled afterwards.
    if (!paid) setCheckout(h.sql, order.id, { gateway_refunded: 1 });
    return "refund_noted";
  }
  if (paid) return paid.payment_id && n.payment_id && paid.payment_id !== n.payment_id ? "double_payment" : "duplicate";
  if (n.amount !== order.total_amount) return "rejected_amount";
  if (n.currency !== order.currency) return "rejected_currency";
  if (row.state === "holding" || row.state === "failed") return "rejected_order";
  const late = row.state === "cancelled" || row.expires_at <= Date.now();
  const payment = {
    method: "gateway",
    gateway: n.gateway,
    payment_id: n.payment_id,
    amount: n.amount,
    currency: n.currency,
  };
  setCheckout(h.sql, order.id, {
    paid: JSON.stringify({ ...payment, notice_id: n.notice_id }),
    late: late ? 1 : 0,
    state: "fulfilling",
  });
  // The cancellation released the buyer's purchases; a late payment counts toward the limits again.
  if (
    late &&
    order.customer_ref &&
    h.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM purchases WHERE order_id = ?", order.id).one().n === 0
  ) {
    for (const l of order.lines)
      h.sql.exec(
        "INSERT INTO purchases (order_id, product_id, customer_ref, quantity, at) VALUES (?, ?, ?, ?, ?)",
        order.id,
        l.product_id,
        order.customer_ref,
        l.quantity,
        Date.now(),
      );
  }
  event(h, order, "order.paid", { payment });
  if (row.gateway_refunded) return finishRefunded(h, order.id, "refunded_at_gateway");
  return fulfil(h, order.id);
}

/** Confirms the holds (or issues afresh when they expired); without stock, refunds through the gateway. */
export function fulfil(h: Host, orderId: string): Promise<NoticeOutcome> {
  let p = fulfilling.get(orderId);
  if (!p) {
    p = runFulfil(h, orderId).finally(() => fulfilling.delete(orderId));
    fulfilling.set(orderId, p);
  }
  return p;
}

async function runFulfil(h: Host, orderId: string): Promise<NoticeOutcome> {
  const order = loadOrder(h.sql, orderId)!;
  const row = loadCheckout(h.sql, orderId)!;
  const holds = JSON.parse(row.holds) as (number | null)[];
  const served: (number | null)[] = order.lines.map(() => null);
  for (let line = 0; line < order.lines.length; line++) {
    const spec = order.lines[line];
    const held = holds[line];
    if (held !== null && held !== undefined) {
      const ref = { productId: spec.product_id, shard: held };
      const r = await skuPool(h.env, ref).confirmHold(ref, {
        holdId: holdId(orderId, line),
        orderId,
        line,
        validity: spec.validity,
      });
      if (r.ok) {
        served[line] = held;
        continue;
      }
    }
    for (const shard of shardOrder(orderId, spec.shards)) {
      const ref = { productId: spec.product_id, shard };
      const r = await skuPool(h.env, ref).issue(ref, {
        orderId,
        line,
        quantity: spec.quantity,
        channelId: order.channel_id,
        validity: spec.validity,
      });
      if (r.ok) {
        served[line] = shard;
        break;
      }
      if (r.reason === "order_returned") break;
    }
    if (served[line] === null) break;
  }
  const complete = served.every((s) => s !== null);
  if (!complete) {
    for (const spec of order.lines) {
      for (let shard = 0; shard < spec.shards; shard++)
        await skuPool(h.env, { productId: spec.product_id, shard }).returnOrder(
          { productId: spec.product_id, shard },
          orderId,
        );
    }
    return finishRefunded(h, orderId, "late_refunded");
  }
  const current = loadCheckout(h.sql, orderId)!;
  if (current.state !== "fulfilling") return current.late ? "late_fulfilled" : "accepted";
  const done = setStatus(h, { ...order, lines: order.lines.map((l, i) => ({ ...l, shard: served[i] })) }, "fulfilled");
  setCheckout(h.sql, orderId, { state: "fulfilled" });
  event(h, done, "order.fulfilled");
  return current.late ? "late_fulfilled" : "accepted";
}

/** A paid order that cannot (or must not) be delivered: money back through the gateway, recorded. */
async function finishRefunded(
  h: Host,
  orderId: string,
  outcome: "late_refunded" | "refunded_at_gateway",
): Promise<NoticeOutcome> {
  const order = loadOrder(h.sql, orderId)!;
  const row = loadCheckout(h.sql, orderId)!;
  if (outcome === "refunded_at_gateway") await releaseHolds(h, order, JSON.parse(row.holds));
  const current = loadCheckout(h.sql, orderId)!;
  if (current.state !== "fulfilling") return outcome;
  const paid = JSON.parse(current.paid!) as { payment_id: string | null };
  const local =
    outcome === "late_refunded"
      ? gateways[row.gateway].refund(
          { order_id: orderId, payment_id: paid.payment_id, amount: order.total_amount, currency: order.currency },
          h.env,
        )
      : null;
  const refund = {
    id: newId("rfd"),
    amount: order.total_amount,
    currency: order.currency,
    to: "gateway",
    gateway: row.gateway,
    gateway_refund_id: local?.gateway_refund_id ?? null,
    reason: outcome === "late_refunded" ? "paid_after_expiry_out_of_stock" : "refunded_at_gateway",
    was_fulfilled: false,
  };
  h.sql.exec(
    "INSERT OR IGNORE INTO order_refunds (order_id, refund_id, state, record, created_at) VALUES (?, ?, 'done', ?, ?)",
    orderId,
    refund.id,
    JSON.stringify(refund),
    Date.now(),
  );
  setCheckout(h.sql, orderId, { state: "refunded" });
  h.sql.exec("DELETE FROM purchases WHERE order_id = ?", orderId);
  event(h, setStatus(h, order, "refunded", refund.reason), "order.refunded", { refund });
  return outcome;
}

/** Alarm work: cancel unpaid checkouts at expiry (releasing their holds) and drive stuck fulfilments. */
export async function onAlarm(h: Host, now: number): Promise<void> {
  const due = h.sql
    .exec<{ order_id: string }>(
      "SELECT order_id FROM checkouts WHERE state IN ('awaiting', 'holding') AND expires_at <= ?",
      now,
    )
    .toArray();
  for (const { order_id } of due) {
    // Re-checked here, synchronously: a notice may have paid it while an earlier one was being released.
    const state = loadCheckout(h.sql, order_id)!.state;
    if (state !== "awaiting" && state !== "holding") continue;
    const order = loadOrder(h.sql, order_id)!;
    setCheckout(h.sql, order_id, { state: "cancelled" });
    h.sql.exec("DELETE FROM purchases WHERE order_id = ?", order_id);
    event(h, setStatus(h, order, "cancelled", "payment_timeout"), "order.cancelled");
    await releaseHolds(h, order, JSON.parse(loadCheckout(h.sql, order_id)!.holds));
  }
  const stuck = h.sql
    .exec<{ order_id: string }>(
      "SELECT order_id FROM checkouts WHERE state = 'fulfilling' AND updated_at <= ?",
      now - STALE_FULFILLING_MS,
    )
    .toArray();
  for (const { order_id } of stuck) await fulfil(h, order_id);
}

/** When the alarm must run next for checkouts, or null. */
export function nextAlarm(sql: SqlStorage): number | null {
  const expiry = sql
    .exec<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM checkouts WHERE state IN ('awaiting', 'holding')")
    .one().t;
  const stuck = sql
    .exec<{ t: number | null }>("SELECT MIN(updated_at) AS t FROM checkouts WHERE state = 'fulfilling'")
    .one().t;
  const times = [expiry, stuck === null ? null : stuck + STALE_FULFILLING_MS].filter((t): t is number => t !== null);
  return times.length ? Math.min(...times) : null;
}
