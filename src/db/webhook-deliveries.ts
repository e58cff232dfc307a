/** The webhook delivery log on D1: deliveries, their attempts, the ping delivery (sending: src/lib/webhook-send.ts). */
import type { DeliveryRow } from "../lib/webhook-send";
import type { DomainEvent } from "../objects/outbox";

export interface AttemptRow {
  attempt: number;
  trigger: "queue" | "replay" | "ping";
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  at: number;
}

/** A delivery by id, or null. */
export async function getDelivery(db: D1Database, deliveryId: string): Promise<DeliveryRow | null> {
  return db.prepare("SELECT * FROM webhook_deliveries WHERE id = ?1").bind(deliveryId).first<DeliveryRow>();
}

/** A delivery's attempts in order (first 200). */
export async function deliveryAttempts(db: D1Database, deliveryId: string): Promise<AttemptRow[]> {
  const { results } = await db
    .prepare(
      "SELECT attempt, trigger, status_code, error, duration_ms, at FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY id LIMIT 200",
    )
    .bind(deliveryId)
    .all<AttemptRow>();
  return results;
}

/** A subscription's deliveries, newest first, optionally of one status and event type (limit + 1 rows). */
export async function listDeliveries(
  db: D1Database,
  subscriptionId: string,
  q: { status?: string; event_type?: string; cursor?: string; limit: number },
): Promise<DeliveryRow[]> {
  const binds: unknown[] = [subscriptionId];
  const where = ["subscription_id = ?1"];
  if (q.status) {
    binds.push(q.status);
    where.push(`status = ?${binds.length}`);
  }
  if (q.event_type) {
    binds.push(q.event_type);
    where.push(`event_type = ?${binds.length}`);
  }
  if (q.cursor) {
    binds.push(q.cursor);
    where.push(`id < ?${binds.length}`);
  }
  binds.push(q.limit + 1);
  const { results } = await db
    .prepare(`SELECT * FROM webhook_deliveries WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?${binds.length}`)
    .bind(...binds)
    .all<DeliveryRow>();
  return results;
}

/** Whether the delivery belongs to the subscription. */
export async function deliveryBelongsTo(db: D1Database, deliveryId: string, subscriptionId: string): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 AS x FROM webhook_deliveries WHERE id = ?1 AND subscription_id = ?2")
    .bind(deliveryId, subscriptionId)
    .first();
  return !!row;
}

/** A ping's event and its pending delivery, in one D1 batch (one transaction). */
export async function insertPing(
  db: D1Database,
  event: DomainEvent,
  deliveryId: string,
  subscriptionId: string,
  now: number,
): Promise<void> {
  await db.batch([
    db
      .prepare("INSERT INTO webhook_events (id, type, source, seq, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind(event.id, event.type, event.source, event.seq, JSON.stringify(event), now),
    db
      .prepare(
        "INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, status, attempts, enqueued_at, created_at, updated_at) VALUES (?1, ?2, ?3, 'webhook.ping', 'pending', 0, ?4, ?4, ?4)",
      )
      .bind(deliveryId, subscriptionId, event.id, now),
  ]);
}
