/**
 * Consumer checkout inside a channel's ChannelAccount: a checkout order holds its codes in the
 * SkuPools (TTL) and waits in `pending_payment` until a gateway notice decides it
 * (channel-payment.ts). Created once per idempotency key; per-customer limits count it at once.
 */
import { newId } from "../domain/ids";
import { type OrderLineSpec, type OrderRecord, orderTotal, shardOrder } from "../domain/orders";
import type { GatewayName } from "../gateways/types";
import {
  type CheckoutRow,
  holdId,
  loadCheckout,
  orderEvent,
  releaseHolds,
  setCheckout,
  setStatus,
} from "./channel-checkout-store";
import { type Host, wakeAt } from "./channel-host";
import {
  customerLimitRefusal,
  findIdempotency,
  loadOrder,
  recordPurchases,
  releasePurchases,
  rememberIdempotency,
  saveOrder,
} from "./channel-orders";
import { skuPool } from "./sku-pool";

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
const inflight = new Map<string, Promise<CheckoutResult>>();

/** Creates the order (pending_payment) and holds its codes, once per idempotency key. */
export function beginCheckout(h: Host, input: CheckoutInput): Promise<CheckoutResult> {
  const flightKey = `${input.channelId}|${input.idempotencyKey}`;
  const key = `checkout:${input.idempotencyKey}`;
  const seen = findIdempotency(h.sql, key);
  if (seen && seen.request_hash !== input.requestHash)
    return Promise.resolve({ ok: false, reason: "idempotency_mismatch" });
  const running = inflight.get(flightKey);
  if (running) return running;
  if (seen) return placeHolds(h, seen.order_id, true);
  const now = Date.now();
  const overLimit = input.customerRef ? customerLimitRefusal(h.sql, input.customerRef, input.lines, now) : null;
  if (overLimit) return Promise.resolve(overLimit);
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
  rememberIdempotency(h.sql, key, input.requestHash, order.id, now);
  saveOrder(h.sql, order);
  h.sql.exec(
    `INSERT INTO checkouts (order_id, state, gateway, payment_id, ttl_ms, expires_at, holds, updated_at)
      VALUES (?, 'holding', ?, ?, ?, ?, ?, ?)`,
    order.id,
    input.gateway,
    newId("pay", now),
    input.ttlMs,
    now + input.ttlMs,
    JSON.stringify(order.lines.map(() => null)),
    now,
  );
  if (input.customerRef) recordPurchases(h.sql, order.id, input.customerRef, input.lines, now);
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
      releasePurchases(h.sql, orderId);
      orderEvent(h, setStatus(h, order, "failed", refusal.reason), "order.failed");
    } else {
      const at = Number.isFinite(expiresAt) ? expiresAt : row.expires_at;
      setCheckout(h.sql, orderId, { state: "awaiting", holds: JSON.stringify(holds), expires_at: at });
      orderEvent(h, order, "order.pending_payment", {
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
