/**
 * Refunding a fulfilled order inside its ChannelAccount: claim the refund (one synchronous
 * step, so of two refunds at once one wins), freeze the order's codes in every SkuPool and void
 * them once all agreed (refused, and thawed, when one is redeemed), then give the money back — through the gateway adapter for checkout
 * orders, to the channel's balance (a `refund` movement) for balance orders — and emit `order.refunded`.
 */

import { newId } from "../domain/ids";
import { type OrderRecord, publicOrder } from "../domain/orders";
import { isTopupOrder } from "../domain/topup";
import { gateways } from "../gateways/registry";
import { account } from "./channel-balance";
import { loadCheckout } from "./channel-checkout-store";
import { type Host, wakeAt } from "./channel-host";
import { loadOrder, releasePurchases, saveOrder } from "./channel-orders";
import { recordEvent } from "./outbox";
import { skuPool } from "./sku-pool";

export interface RefundInput {
  orderId: string;
  reason: string;
  idempotencyKey: string;
  requestHash: string;
}
export interface RefundRecord {
  id: string;
  amount: number;
  currency: string;
  to: "balance" | "gateway";
  gateway?: string;
  gateway_refund_id?: string | null;
  reason: string;
  was_fulfilled: boolean;
}
export type RefundResult =
  | { ok: true; order: OrderRecord; refund: RefundRecord; replayed: boolean }
  | {
      ok: false;
      reason: "not_found" | "idempotency_mismatch" | "already_refunded" | "refund_in_progress" | "code_redeemed";
    }
  | { ok: false; reason: "not_refundable"; message: string };

const inflight = new Map<string, Promise<RefundResult>>();
const STALE_CLAIM_MS = 60_000;

/** Alarm work: finishes refunds whose claim a crash left half-way (voiding is idempotent). */
export async function resumeRefunds(h: Host, now: number): Promise<void> {
  const stale = h.sql
    .exec<{ order_id: string; refund_id: string; record: string }>(
      "SELECT order_id, refund_id, record FROM order_refunds WHERE state = 'voiding' AND created_at <= ?",
      now - STALE_CLAIM_MS,
    )
    .toArray();
  for (const claim of stale) {
    if (inflight.has(claim.order_id)) continue;
    const order = loadOrder(h.sql, claim.order_id);
    if (order) await run(h, order, claim.refund_id, (JSON.parse(claim.record) as { reason: string }).reason);
  }
}

/** The finished refund of an order, if any. */
export function refundOf(sql: SqlStorage, orderId: string): RefundRecord | null {
  const row = sql
    .exec<{ record: string | null }>("SELECT record FROM order_refunds WHERE order_id = ? AND state = 'done'", orderId)
    .toArray()[0];
  return row?.record ? (JSON.parse(row.record) as RefundRecord) : null;
}

export function refundOrder(h: Host, input: RefundInput): Promise<RefundResult> {
  const seen = h.sql
    .exec<{ request_hash: string; order_id: string }>(
      "SELECT request_hash, order_id FROM refund_requests WHERE key = ?",
      input.idempotencyKey,
    )
    .toArray()[0];
  if (seen && (seen.request_hash !== input.requestHash || seen.order_id !== input.orderId))
    return Promise.resolve({ ok: false, reason: "idempotency_mismatch" });
  const running = inflight.get(input.orderId);
  if (seen) return running ?? Promise.resolve(stored(h, input.orderId, true));
  const order = loadOrder(h.sql, input.orderId);
  if (!order) return Promise.resolve({ ok: false, reason: "not_found" });
  const claimed = h.sql
    .exec<{ state: string }>("SELECT state FROM order_refunds WHERE order_id = ?", order.id)
    .toArray()[0];
  if (claimed)
    return Promise.resolve({ ok: false, reason: claimed.state === "done" ? "already_refunded" : "refund_in_progress" });
  if (order.status === "refunded") return Promise.resolve({ ok: false, reason: "already_refunded" });
  if (order.status !== "fulfilled")
    return Promise.resolve({
      ok: false,
      reason: "not_refundable",
      message: `the order is ${order.status}; only fulfilled orders are refunded`,
    });
  // A recharge cannot be taken back from the account it credited (a failed one is refunded by itself).
  if (isTopupOrder(order.lines))
    return Promise.resolve({ ok: false, reason: "not_refundable", message: "a delivered top-up cannot be refunded" });
  const checkout = loadCheckout(h.sql, order.id);
  const paidByGateway = checkout?.paid ? (JSON.parse(checkout.paid) as { payment_id: string | null }) : null;
  if (!paidByGateway && order.funds !== "committed")
    return Promise.resolve({
      ok: false,
      reason: "not_refundable",
      message: "this order took no money (the merchant's own order); void its codes instead",
    });
  const now = Date.now();
  const refundId = newId("rfd", now);
  h.sql.exec(
    "INSERT INTO order_refunds (order_id, refund_id, state, record, created_at) VALUES (?, ?, 'voiding', ?, ?)",
    order.id,
    refundId,
    JSON.stringify({ reason: input.reason }),
    now,
  );
  wakeAt(h, now + STALE_CLAIM_MS); // a claim left by a crash is finished by the alarm (resumeRefunds)
  h.sql.exec(
    "INSERT INTO refund_requests (key, request_hash, order_id, created_at) VALUES (?, ?, ?, ?)",
    input.idempotencyKey,
    input.requestHash,
    order.id,
    now,
  );
  const p = run(h, order, refundId, input.reason).finally(() => inflight.delete(order.id));
  inflight.set(order.id, p);
  return p;
}

function stored(h: Host, orderId: string, replayed: boolean): RefundResult {
  const row = h.sql
    .exec<{ state: string; record: string | null }>(
      "SELECT state, record FROM order_refunds WHERE order_id = ?",
      orderId,
    )
    .toArray()[0];
  if (!row) return { ok: false, reason: "code_redeemed" };
  if (row.state !== "done") return { ok: false, reason: "refund_in_progress" };
  return { ok: true, order: loadOrder(h.sql, orderId)!, refund: JSON.parse(row.record!), replayed };
}

async function run(h: Host, order: OrderRecord, refundId: string, reason: string): Promise<RefundResult> {
  const pools = order.lines.filter((l) => l.shard !== null).map((l) => ({ productId: l.product_id, shard: l.shard! }));
  // Freeze-then-void (objects/sku-pool-refund.ts): freeze every pool first; void only when all agreed.
  const frozen = await Promise.all(pools.map((ref) => skuPool(h.env, ref).freezeOrder(ref, order.id, refundId)));
  if (frozen.some((f) => !f.ok)) {
    // A code of the order is redeemed: thaw every pool before dropping the claim, so a crash in between
    // leaves the claim for the alarm to finish the thaw. Then a later attempt (after a reversal) can run.
    await Promise.all(pools.map((ref) => skuPool(h.env, ref).thawOrder(ref, order.id, refundId)));
    h.sql.exec("DELETE FROM order_refunds WHERE order_id = ?", order.id);
    return { ok: false, reason: "code_redeemed" };
  }
  // Frozen codes cannot be redeemed, so no pool can refuse now; each void is idempotent by refund id.
  for (const ref of pools) await skuPool(h.env, ref).voidFrozenOrder(ref, order.id, refundId, `refund:${refundId}`);
  const now = Date.now();
  const checkout = loadCheckout(h.sql, order.id);
  let refund: RefundRecord;
  if (checkout?.paid) {
    const paid = JSON.parse(checkout.paid) as { payment_id: string | null };
    const local = gateways[checkout.gateway].refund(
      { order_id: order.id, payment_id: paid.payment_id, amount: order.total_amount, currency: order.currency },
      h.env,
    );
    refund = {
      id: refundId,
      amount: order.total_amount,
      currency: order.currency,
      to: "gateway",
      gateway: checkout.gateway,
      gateway_refund_id: local.gateway_refund_id,
      reason,
      was_fulfilled: true,
    };
    h.sql.exec("UPDATE checkouts SET state = 'refunded', updated_at = ? WHERE order_id = ?", now, order.id);
  } else {
    // Back to the prepaid balance, as a movement of its own.
    h.sql.exec("UPDATE account SET balance = balance + ? WHERE id = 1", order.total_amount);
    h.sql.exec(
      `INSERT OR IGNORE INTO movements (id, kind, amount, balance_after, order_id, note, actor, created_at)
        VALUES (?, 'refund', ?, ?, ?, ?, 'refund', ?)`,
      `mov_${refundId}`,
      order.total_amount,
      account(h.sql).balance,
      order.id,
      reason.slice(0, 200),
      now,
    );
    refund = {
      id: refundId,
      amount: order.total_amount,
      currency: order.currency,
      to: "balance",
      reason,
      was_fulfilled: true,
    };
  }
  const next: OrderRecord = { ...order, status: "refunded", updated_at: now };
  saveOrder(h.sql, next);
  releasePurchases(h.sql, order.id);
  h.sql.exec(
    "UPDATE order_refunds SET state = 'done', record = ? WHERE order_id = ?",
    JSON.stringify(refund),
    order.id,
  );
  recordEvent(h.sql, `channel:${order.channel_id}`, "order.refunded", { order: publicOrder(next), refund }, now);
  wakeAt(h, now);
  return { ok: true, order: next, refund, replayed: false };
}
