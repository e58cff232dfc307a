/** Gateway notice bookkeeping on D1: rejected notices counted per day, verified ones recorded once per notice id. */
import type { VerifiedNotice } from "../gateways/types";

/** Counts one unverified notice (never stored) under its gateway, UTC day and reason. */
export async function countNoticeRejection(
  db: D1Database,
  gateway: string,
  day: string,
  reason: string,
  now: number,
): Promise<void> {
  await db
    .prepare(
      "INSERT INTO payment_notice_rejections (gateway, day, reason, count, last_at) VALUES (?1, ?2, ?3, 1, ?4) ON CONFLICT (gateway, day, reason) DO UPDATE SET count = count + 1, last_at = excluded.last_at",
    )
    .bind(gateway, day, reason, now)
    .run();
}

/** Records a verified notice; a repeat only counts a delivery (and replaces a 'duplicate' outcome). */
export async function recordPaymentNotice(
  db: D1Database,
  id: string,
  n: VerifiedNotice,
  channelId: string | null,
  outcome: string,
  now: number,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO payment_notices (id, gateway, notice_id, kind, order_id, channel_id, payment_id, amount, currency, outcome, deliveries, received_at, last_received_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?11)
     ON CONFLICT (gateway, notice_id) DO UPDATE SET deliveries = deliveries + 1, last_received_at = excluded.last_received_at,
       outcome = CASE WHEN payment_notices.outcome = 'duplicate' THEN excluded.outcome ELSE payment_notices.outcome END`,
    )
    .bind(
      id,
      n.gateway,
      n.notice_id.slice(0, 200),
      n.kind,
      n.order_id,
      channelId,
      n.payment_id,
      n.amount,
      n.currency,
      outcome,
      now,
    )
    .run();
}

/** The channel of a checkout order (whose ChannelAccount decides on its notices), or null when unknown. */
export async function checkoutOrderChannel(db: D1Database, orderId: string): Promise<{ channel_id: string } | null> {
  return db
    .prepare("SELECT channel_id FROM checkout_orders WHERE order_id = ?1")
    .bind(orderId)
    .first<{ channel_id: string }>();
}

/** The channel of a checkout order paid through the sandbox gateway, or null (the sandbox payer pays no other). */
export async function sandboxCheckoutChannel(db: D1Database, orderId: string): Promise<{ channel_id: string } | null> {
  return db
    .prepare("SELECT channel_id FROM checkout_orders WHERE order_id = ?1 AND gateway = 'sandbox'")
    .bind(orderId)
    .first<{ channel_id: string }>();
}
