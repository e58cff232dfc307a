/**
 * Fixtures for the ledger tests: hand-made events (a channel's order.paid / order.refunded, a pool's redemptions)
 * delivered straight to the events consumer, and readers of the ledger rows.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ledgerTotals } from "../src/db/ledger";
import worker from "../src/index";
import type { DomainEvent } from "../src/objects/outbox";

let seq = 0;
export const ev = (
  type: string,
  data: Record<string, unknown>,
  at = "2026-03-01T10:00:00.000Z",
  id = `evt_led${Date.now().toString(36)}${++seq}`,
): DomainEvent => ({ id, type, created_at: at, source: "channel:test", seq, data });
export const orderOf = (id: string, channelId: string, amount: number, status = "fulfilled") => ({
  id,
  channel_id: channelId,
  status,
  customer_ref: null,
  external_ref: null,
  currency: "CNY",
  total_amount: amount,
  failure_reason: null,
  created_at: "2026-03-01T10:00:00.000Z",
  updated_at: "2026-03-01T10:00:00.000Z",
  items: [{ product_id: "prd_led", quantity: 1, unit_price: amount, amount }],
});
/** A SkuPool's event (its source names the pool: the redemptions projection reads product and shard from it). */
export const poolEv = (type: string, data: Record<string, unknown>): DomainEvent => ({
  ...ev(type, data),
  source: "sku:prd_led:0",
});
export const paidEvent = (orderId: string, channelId: string, amount: number, at?: string) =>
  ev(
    "order.paid",
    { order: orderOf(orderId, channelId, amount), payment: { method: "balance", amount, currency: "CNY" } },
    at,
  );

export async function deliver(events: DomainEvent[]) {
  const batch = createMessageBatch(
    "voucher-events",
    events.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<DomainEvent>, env, ctx);
  return getQueueResult(batch, ctx);
}

export const entriesOf = async (orderId: string) =>
  (
    await env.DB.prepare(
      "SELECT t.type, e.account_id, e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id WHERE t.order_id = ?1 ORDER BY t.type, e.line",
    )
      .bind(orderId)
      .all<{ type: string; account_id: string; amount: number }>()
  ).results;
export const txnCount = async (channelId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_transactions WHERE channel_id = ?1")
    .bind(channelId)
    .first<{ n: number }>())!.n;

export async function expectBalancedLedger() {
  for (const t of await ledgerTotals(env.DB)) expect(t).toMatchObject({ total: 0, unbalanced_transactions: 0 });
}
