/**
 * Gateway notices for a ChannelAccount's checkouts: the first verified payment decides the order in
 * one synchronous step (a notice repeated 20 times pays and fulfils it once), fulfilment confirms the
 * holds or issues afresh, and a paid order that cannot be delivered is refunded through the gateway.
 * The alarm cancels unpaid checkouts at expiry and drives stuck fulfilments.
 */
import { newId } from "../domain/ids";
import { shardOrder } from "../domain/orders";
import { gateways } from "../gateways/registry";
import type { VerifiedNotice } from "../gateways/types";
import { holdId, loadCheckout, orderEvent, releaseHolds, setCheckout, setStatus } from "./channel-checkout-store";
import type { Host } from "./channel-host";
import { hasPurchases, loadOrder, recordPurchases, releasePurchases } from "./channel-orders";
import { skuPool } from "./sku-pool";

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
const fulfilling = new Map<string, Promise<NoticeOutcome>>();

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
    paid: JSON.stringify({ ...payment, notice_id: n.notice_id, at: Date.now() }),
    late: late ? 1 : 0,
    state: "fulfilling",
  });
  // The cancellation released the buyer's purchases; a late payment counts toward the limits again.
  if (late && order.customer_ref && !hasPurchases(h.sql, order.id))
    recordPurchases(h.sql, order.id, order.customer_ref, order.lines, Date.now());
  orderEvent(h, order, "order.paid", { payment });
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
  orderEvent(h, done, "order.fulfilled");
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
  releasePurchases(h.sql, orderId);
  orderEvent(h, setStatus(h, order, "refunded", refund.reason), "order.refunded", { refund });
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
    releasePurchases(h.sql, order_id);
    orderEvent(h, setStatus(h, order, "cancelled", "payment_timeout"), "order.cancelled");
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
