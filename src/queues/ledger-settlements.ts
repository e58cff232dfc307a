/** After an events batch committed: announces each posted split as `settlement.posted` on the events queue. */
import { loadPostedLegs } from "../db/ledger";
import { newId } from "../domain/ids";
import type { DomainEvent } from "../objects/outbox";
import { paid } from "./ledger-events";

/** A deterministic event id per order: a redelivery announces the same event, which consumers dedupe. */
async function settlementEventId(orderId: string, at: number): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`settlement.posted:${orderId}`)),
  );
  return newId("evt", at, digest.slice(0, 16));
}

/** After the batch committed: `settlement.posted` for every order.paid of the batch whose sale is in the ledger. */
export async function publishSettlements(env: Env, events: DomainEvent[]): Promise<number> {
  const orderIds = events
    .map(paid)
    .filter((x) => x !== null)
    .map((x) => x.order.id as string);
  if (orderIds.length === 0) return 0;
  const messages: { body: DomainEvent; contentType: "json" }[] = [];
  for (const [orderId, { legs, ...meta }] of await loadPostedLegs(env.DB, orderIds)) {
    const data = {
      order_id: orderId,
      channel_id: meta.channel_id,
      currency: meta.currency,
      total: legs.filter((l) => l.amount > 0).reduce((s, l) => s + l.amount, 0),
      shares: legs.filter((l) => l.kind === "commission").map((l) => ({ channel_id: l.owner, amount: -l.amount })),
      merchant_amount: -(legs.find((l) => l.kind === "deferred_revenue" || l.kind === "revenue")?.amount ?? 0),
    };
    const id = await settlementEventId(orderId, meta.created_at);
    messages.push({
      body: {
        id,
        type: "settlement.posted",
        created_at: new Date(meta.created_at).toISOString(),
        source: `ledger:${orderId}`,
        seq: 1,
        data,
      },
      contentType: "json",
    });
  }
  for (let i = 0; i < messages.length; i += 50) await env.EVENTS.sendBatch(messages.slice(i, i + 50));
  return messages.length;
}
