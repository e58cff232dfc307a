/**
 * How each event changes the D1 projections. Statements are idempotent on their own
 * (upserts, and `version < seq` guards so an older event never overwrites a newer one);
 * the consumer also skips events it has already applied.
 */
import type { DomainEvent } from "../objects/outbox";

type Data = Record<string, unknown>;
const ms = (iso: unknown) => (typeof iso === "string" ? Date.parse(iso) : null);
const indexes = (d: Data) => JSON.stringify(d.code_indexes ?? [d.code_index]);

export function projectionStatements(db: D1Database, event: DomainEvent): D1PreparedStatement[] {
  const d = event.data as Data;
  const seq = event.seq;
  const setCodes = (sql: string, ...binds: unknown[]) =>
    db
      .prepare(
        `UPDATE code_index SET ${sql}, version = ?1 WHERE blind_index IN (SELECT value FROM json_each(?2)) AND version < ?1`,
      )
      .bind(seq, indexes(d), ...binds);
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
        db
          .prepare(
            `INSERT INTO orders (id, channel_id, status, customer_ref, external_ref, currency, total_amount, quantity, items, failure_reason, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, failure_reason = excluded.failure_reason, updated_at = excluded.updated_at
             WHERE excluded.updated_at >= orders.updated_at`,
          )
          .bind(
            o.id,
            o.channel_id,
            o.status,
            o.customer_ref ?? null,
            o.external_ref ?? null,
            o.currency,
            o.total_amount,
            (o.items as { quantity: number }[]).reduce((s, i) => s + i.quantity, 0),
            JSON.stringify(o.items),
            o.failure_reason ?? null,
            ms(o.created_at),
            ms(o.updated_at),
          ),
        ...(event.type === "order.refunded" && d.refund ? [refundRow(db, o, d.refund as Data, event.created_at)] : []),
      ];
    }
    case "code.issued":
      return [
        setCodes(
          "status = 'issued', order_id = ?3, channel_id = ?4, issued_at = ?5, expires_at = ?6",
          d.order_id,
          d.channel_id,
          ms(d.issued_at),
          ms(d.expires_at),
        ),
      ];
    case "code.returned":
      return [
        setCodes("status = 'available', order_id = NULL, channel_id = NULL, issued_at = NULL, expires_at = NULL"),
      ];
    case "code.voided":
      return [setCodes("status = 'voided'")];
    case "code.unvoided":
      return [setCodes("status = 'issued'")];
    case "code.redemption_reversed":
      return [
        setCodes("status = 'issued', redeemed_at = NULL"),
        db.prepare("UPDATE redemptions SET reversed_at = ?1 WHERE id = ?2").bind(ms(d.reversed_at), d.redemption_id),
      ];
    case "code.redeemed": {
      const [, productId, shard] = event.source.split(":");
      return [
        setCodes("status = 'redeemed', redeemed_at = ?3", ms(d.redeemed_at)),
        db
          .prepare(
            `INSERT INTO redemptions (id, product_id, shard, channel_id, order_id, last4, redeemer, redeemed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id`,
          )
          .bind(
            d.redemption_id,
            productId,
            Number(shard),
            d.channel_id,
            d.order_id ?? null,
            d.last4,
            d.redeemer ?? null,
            ms(d.redeemed_at),
          ),
      ];
    }
    case "stock.low":
    case "stock.refilled":
      return [
        db
          .prepare(
            "INSERT OR IGNORE INTO stock_events (id, product_id, channel_id, type, quantity, quota, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
          )
          .bind(
            event.id,
            d.product_id,
            d.channel_id,
            event.type,
            (d.quantity as number | undefined) ?? null,
            d.quota,
            Date.parse(event.created_at),
          ),
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
  return db
    .prepare(
      `INSERT OR IGNORE INTO refunds (id, order_id, channel_id, amount, currency, "to", gateway, gateway_refund_id, reason, was_fulfilled, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
    )
    .bind(
      r.id,
      o.id,
      o.channel_id,
      r.amount,
      r.currency,
      r.to,
      r.gateway ?? null,
      r.gateway_refund_id ?? null,
      String(r.reason ?? ""),
      r.was_fulfilled ? 1 : 0,
      Date.parse(at),
    );
}
