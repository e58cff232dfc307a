/**
 * Balance orders inside a ChannelAccount, as a small saga: reserve limits and money → issue every
 * line in its SkuPool → fulfil, or return what was issued and fail. Each step is idempotent (by
 * order id and line), so the alarm can drive an order left half-way by a crash to its end.
 */
import { newId } from "../domain/ids";
import {
  type OrderRecord,
  type OrderRefusal,
  orderTotal,
  type PlaceOrderInput,
  publicOrder,
  shardOrder,
} from "../domain/orders";
import { isTopupOrder, type TopupView } from "../domain/topup";
import * as funds from "./channel-balance";
import type { Host } from "./channel-host";
import {
  customerLimitRefusal,
  findIdempotency,
  loadOrder,
  recordPurchases,
  releasePurchases,
  rememberIdempotency,
  saveOrder,
} from "./channel-orders";
import * as topup from "./channel-topup";
import { recordEvent } from "./outbox";
import { type IssuedCode, skuPool } from "./sku-pool";

/** A pending order untouched this long is assumed abandoned by a crash and driven on by the alarm. */
export const STALE_PENDING_MS = 30_000;

export type OrderResult =
  | { ok: true; order: OrderRecord; codes: Record<number, IssuedCode[]>; replayed: boolean }
  | ({ ok: false; order?: OrderRecord } & OrderRefusal);

export interface SagaHost extends Host {
  /** Requests racing on one idempotency key share one promise, so they get one answer. */
  inflight: Map<string, Promise<OrderResult>>;
  /** Sends the queue messages of top-ups not sent yet (one sender at a time, see the class). */
  sendTopups(): Promise<void>;
}

/** Places an order exactly once per idempotency key. */
export function placeOrder(h: SagaHost, input: PlaceOrderInput): Promise<OrderResult> {
  const running = h.inflight.get(input.idempotencyKey);
  const seen = findIdempotency(h.sql, input.idempotencyKey);
  if (seen && seen.request_hash !== input.requestHash)
    return Promise.resolve({ ok: false, reason: "idempotency_mismatch" });
  if (running) return running;
  if (seen) return finish(h, seen.order_id, true);

  const now = Date.now();
  const overLimit = input.customerRef ? customerLimitRefusal(h.sql, input.customerRef, input.lines, now) : null;
  if (overLimit) return Promise.resolve(overLimit);
  const order: OrderRecord = {
    id: newId("ord", now),
    channel_id: input.channelId,
    status: "pending",
    customer_ref: input.customerRef,
    external_ref: input.externalRef,
    currency: input.lines[0].currency,
    total_amount: orderTotal(input.lines),
    lines: input.lines.map((l) => ({ ...l, shard: null })),
    failure_reason: null,
    funds: input.paysFromBalance ? "reserved" : "none",
    created_at: now,
    updated_at: now,
  };
  // Step 1 of the saga: reserve the money (nothing is stored when it is short, so a retry after a top-up works).
  if (input.paysFromBalance) {
    const reserved = funds.reserve(h.sql, order.total_amount, order.currency);
    if (!reserved.ok) return Promise.resolve(reserved);
  }
  rememberIdempotency(h.sql, input.idempotencyKey, input.requestHash, order.id, now);
  // A top-up line never goes to a SkuPool: the order waits in `processing` for the provider (objects/channel-topup.ts).
  if (isTopupOrder(order.lines)) topup.start(h.sql, order, now);
  saveOrder(h.sql, order);
  if (input.customerRef) recordPurchases(h.sql, order.id, input.customerRef, input.lines, now);
  void h.ctx.storage.setAlarm(now + STALE_PENDING_MS);
  if (order.status === "processing") return h.sendTopups().then(() => finish(h, order.id, false));
  const promise = drive(h, order.id).finally(() => h.inflight.delete(input.idempotencyKey));
  h.inflight.set(input.idempotencyKey, promise);
  return promise;
}

/** The stored outcome of an idempotency key, if any (used when the request itself no longer validates). */
export function replay(h: SagaHost, idempotencyKey: string, requestHash: string): Promise<OrderResult> | null {
  const seen = findIdempotency(h.sql, idempotencyKey);
  if (!seen) return null;
  if (seen.request_hash !== requestHash) return Promise.resolve({ ok: false, reason: "idempotency_mismatch" });
  return h.inflight.get(idempotencyKey) ?? finish(h, seen.order_id, true);
}

/** An order of this channel with its codes (revealed from the pools), or null. */
export async function getOrder(
  h: Host,
  orderId: string,
  withCodes: boolean,
): Promise<{ order: OrderRecord; codes: Record<number, IssuedCode[]> | null; topup: TopupView | null } | null> {
  const order = loadOrder(h.sql, orderId);
  if (!order) return null;
  const view = topup.view(h.sql, order);
  if (!withCodes) return { order, codes: null, topup: view };
  return { order, codes: order.status === "fulfilled" ? await revealCodes(h, order) : {}, topup: view };
}

/** Issues every line; on any refusal returns what was issued and fails the order. Each step is idempotent. */
export async function drive(h: SagaHost, orderId: string): Promise<OrderResult> {
  const order = loadOrder(h.sql, orderId)!;
  if (order.status !== "pending") return finish(h, orderId, false);
  let refusal: OrderRefusal | null = null;
  for (let line = 0; line < order.lines.length && !refusal; line++) {
    const spec = order.lines[line];
    let served: number | null = null;
    let available = 0;
    let reason: "out_of_stock" | "quota_exceeded" = "quota_exceeded";
    for (const shard of shardOrder(orderId, spec.shards)) {
      const ref = { productId: spec.product_id, shard };
      const result = await skuPool(h.env, ref).issue(ref, {
        orderId,
        line,
        quantity: spec.quantity,
        channelId: order.channel_id,
        validity: spec.validity,
      });
      if (result.ok) {
        served = shard;
        break;
      }
      if (result.reason === "order_returned") {
        reason = "out_of_stock";
        break;
      }
      available = Math.max(available, result.available);
      if (result.reason === "out_of_stock") reason = "out_of_stock";
    }
    if (served === null) refusal = { reason, product_id: spec.product_id, available };
    else spec.shard = served;
  }
  if (refusal) {
    for (const spec of order.lines) {
      for (let shard = 0; shard < spec.shards; shard++) {
        const ref = { productId: spec.product_id, shard };
        await skuPool(h.env, ref).returnOrder(ref, orderId);
      }
    }
  }
  const current = loadOrder(h.sql, orderId)!;
  if (current.status === "pending") settle(h, order, refusal);
  return refusal ? { ok: false, ...refusal, order: loadOrder(h.sql, orderId)! } : finish(h, orderId, false);
}

/** Last step of the saga, one synchronous step: the status, the money and the events together. */
function settle(h: Host, order: OrderRecord, refusal: OrderRefusal | null): void {
  const now = Date.now();
  const next: OrderRecord = {
    ...order,
    status: refusal ? "failed" : "fulfilled",
    failure_reason: refusal?.reason ?? null,
    updated_at: now,
  };
  // Commit or release the reserved money in the same transaction as the status.
  if (order.funds === "reserved") {
    if (refusal) funds.release(h.sql, order.total_amount);
    else funds.commit(h.sql, order.id, order.total_amount, now);
    next.funds = refusal ? "released" : "committed";
  }
  saveOrder(h.sql, next);
  if (refusal) releasePurchases(h.sql, order.id);
  const source = `channel:${order.channel_id}`;
  recordEvent(h.sql, source, refusal ? "order.failed" : "order.fulfilled", { order: publicOrder(next) }, now);
  // Money moved: the ledger posts the sale and its split from this event (queues/ledger.ts).
  if (next.funds === "committed") {
    const payment = { method: "balance", amount: order.total_amount, currency: order.currency };
    recordEvent(h.sql, source, "order.paid", { order: publicOrder(next), payment }, now);
  }
  void h.ctx.storage.setAlarm(now);
}

async function finish(h: SagaHost, orderId: string, replayed: boolean): Promise<OrderResult> {
  const order = loadOrder(h.sql, orderId)!;
  if (order.status === "pending") return drive(h, orderId);
  if (order.status === "failed" && !isTopupOrder(order.lines)) {
    const product = order.lines.find((l) => l.shard === null)?.product_id ?? order.lines[0].product_id;
    const reason = order.failure_reason === "quota_exceeded" ? "quota_exceeded" : "out_of_stock";
    return { ok: false, reason, product_id: product, available: 0, order };
  }
  return { ok: true, order, codes: await revealCodes(h, order), replayed };
}

async function revealCodes(h: Host, order: OrderRecord): Promise<Record<number, IssuedCode[]>> {
  const out: Record<number, IssuedCode[]> = {};
  await Promise.all(
    order.lines.map(async (spec, line) => {
      if (spec.shard === null) return;
      const ref = { productId: spec.product_id, shard: spec.shard };
      const codes = await skuPool(h.env, ref).orderCodes(ref, order.id);
      out[line] = codes[line] ?? [];
    }),
  );
  return out;
}
