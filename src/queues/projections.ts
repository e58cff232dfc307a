/**
 * How each event changes the D1 projections (statements built by src/db/projections.ts). Statements are
 * idempotent on their own (upserts, and `version < seq` guards so an older event never overwrites a newer
 * one); the consumer also skips events it has already applied.
 */

import { claimRedeemed, claimRedemptionReversed } from "../db/campaigns";
import {
  codesIssued,
  codesRedeemed,
  codesRedemptionReversed,
  codesReturned,
  codesUnvoided,
  codesVoided,
  insertRefund,
  insertStockEvent,
  reverseRedemption,
  upsertOrder,
  upsertRedemption,
} from "../db/projections";
import type { DomainEvent } from "../objects/outbox";

// Event payloads as the objects wrote them, bound to D1 as they are.
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON from our own outboxes
type Data = Record<string, any>;
const ms = (iso: unknown) => (typeof iso === "string" ? Date.parse(iso) : null);
const indexes = (d: Data): unknown[] => d.code_indexes ?? [d.code_index];

export function projectionStatements(db: D1Database, event: DomainEvent): D1PreparedStatement[] {
  const d = event.data as Data;
  const seq = event.seq;
  switch (event.type) {
    // Every order.* event carries the order as it is after the change (see publicOrder).
    case "order.fulfilled":
    case "order.failed":
    case "order.pending_payment":
    case "order.processing":
    case "order.paid":
    case "order.cancelled":
    case "order.refunded": {
      const o = d.order as Data;
      return [
        upsertOrder(db, {
          id: o.id,
          channel_id: o.channel_id,
          status: o.status,
          customer_ref: o.customer_ref ?? null,
          external_ref: o.external_ref ?? null,
          currency: o.currency,
          total_amount: o.total_amount,
          quantity: (o.items as { quantity: number }[]).reduce((s, i) => s + i.quantity, 0),
          items: JSON.stringify(o.items),
          failure_reason: o.failure_reason ?? null,
          created_at: ms(o.created_at),
          updated_at: ms(o.updated_at),
        }),
        ...(event.type === "order.refunded" && d.refund ? [refundRow(db, o, d.refund as Data, event.created_at)] : []),
      ];
    }
    case "code.issued":
      return [
        codesIssued(db, seq, indexes(d), {
          orderId: d.order_id,
          channelId: d.channel_id,
          issuedAt: ms(d.issued_at),
          expiresAt: ms(d.expires_at),
        }),
      ];
    case "code.returned":
      return [codesReturned(db, seq, indexes(d))];
    case "code.voided":
      return [codesVoided(db, seq, indexes(d))];
    // No longer emitted (refunds freeze before they void); kept for events written by earlier versions.
    case "code.unvoided":
      return [codesUnvoided(db, seq, indexes(d))];
    case "code.redemption_reversed":
      return [
        codesRedemptionReversed(db, seq, indexes(d)),
        reverseRedemption(db, d.redemption_id, ms(d.reversed_at)),
        ...(d.order_id ? [claimRedemptionReversed(db, event.id, d.order_id)] : []),
      ];
    case "code.redeemed": {
      const [, productId, shard] = event.source.split(":");
      return [
        codesRedeemed(db, seq, indexes(d), ms(d.redeemed_at)),
        upsertRedemption(db, {
          id: d.redemption_id,
          productId,
          shard: Number(shard),
          channelId: d.channel_id,
          orderId: d.order_id ?? null,
          last4: d.last4,
          redeemer: d.redeemer ?? null,
          redeemedAt: ms(d.redeemed_at),
        }),
        // A campaign's funnel: the claim whose order this code belongs to was redeemed.
        ...(d.order_id ? [claimRedeemed(db, event.id, d.order_id, ms(d.redeemed_at))] : []),
      ];
    }
    case "stock.low":
    case "stock.refilled":
      return [
        insertStockEvent(db, {
          id: event.id,
          productId: d.product_id,
          channelId: d.channel_id,
          type: event.type,
          quantity: (d.quantity as number | undefined) ?? null,
          quota: d.quota,
          createdAt: Date.parse(event.created_at),
        }),
      ];
    default:
      return [];
  }
}

/**
 * Every refund lands in D1 `refunds` (finance's list) from its event, whichever path made it: the API,
 * a late payment, a failed top-up, or an alarm finishing a refund after a crash. Once per order.
 */
function refundRow(db: D1Database, o: Data, r: Data, at: string): D1PreparedStatement {
  return insertRefund(db, {
    id: r.id,
    order_id: o.id,
    channel_id: o.channel_id,
    amount: r.amount,
    currency: r.currency,
    to: r.to,
    gateway: r.gateway ?? null,
    gateway_refund_id: r.gateway_refund_id ?? null,
    reason: String(r.reason ?? ""),
    was_fulfilled: r.was_fulfilled ? 1 : 0,
    created_at: Date.parse(at),
  });
}
