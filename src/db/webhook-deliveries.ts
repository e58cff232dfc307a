/**
 * The webhook delivery log on D1: stored events, deliveries and their attempts, claims and clean-up (sending:
 * src/lib/webhook-send.ts; fan-out: src/queues/webhook-fanout.ts).
 */
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

/** A stored event's JSON body, or null. */
export async function webhookEventBody(db: D1Database, eventId: string): Promise<string | null> {
  const row = await db.prepare("SELECT body FROM webhook_events WHERE id = ?1").bind(eventId).first<{ body: string }>();
  return row ? row.body : null;
}

/**
 * Records one attempt in one D1 batch: the delivery's outcome (delivered stays delivered, dead stays dead) and the
 * attempt row numbered by the delivery's new attempt count; that number (undefined if the delivery is gone).
 */
export async function recordAttempt(
  db: D1Database,
  a: {
    deliveryId: string;
    trigger: "queue" | "replay" | "ping";
    ok: boolean;
    statusCode: number | null;
    error: string | null;
    durationMs: number;
    nextAttemptAt: number | null;
    now: number;
  },
): Promise<number | undefined> {
  const [, attempt] = await db.batch<{ attempts: number }>([
    db
      .prepare(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = ?2, last_error = ?3, updated_at = ?4, next_attempt_at = ?5,
         status = CASE WHEN ?6 = 1 THEN 'delivered' WHEN status IN ('delivered', 'dead') THEN status ELSE 'failed' END,
         delivered_at = CASE WHEN ?6 = 1 THEN ?4 ELSE delivered_at END
       WHERE id = ?1`,
      )
      .bind(a.deliveryId, a.statusCode, a.error, a.now, a.nextAttemptAt, a.ok ? 1 : 0),
    db
      .prepare(
        `INSERT INTO webhook_attempts (delivery_id, attempt, trigger, status_code, error, duration_ms, at)
       SELECT ?1, attempts, ?2, ?3, ?4, ?5, ?6 FROM webhook_deliveries WHERE id = ?1 RETURNING attempt AS attempts`,
      )
      .bind(a.deliveryId, a.trigger, a.statusCode, a.error, a.durationMs, a.now),
  ]);
  return attempt.results[0]?.attempts;
}

/** Stores events (for replay) and their pending deliveries in one D1 batch; existing ones are left as they are. */
export async function storeDeliveries(
  db: D1Database,
  events: DomainEvent[],
  deliveries: { id: string; subscription_id: string; event_id: string; event_type: string }[],
  now: number,
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO webhook_events (id, type, source, seq, body, created_at)
       SELECT json_extract(value, '$.id'), json_extract(value, '$.type'), json_extract(value, '$.source'), json_extract(value, '$.seq'), value, ?2 FROM json_each(?1)`,
      )
      .bind(JSON.stringify(events), now),
    db
      .prepare(
        `INSERT OR IGNORE INTO webhook_deliveries (id, subscription_id, event_id, event_type, status, attempts, created_at, updated_at)
       SELECT json_extract(value, '$.id'), json_extract(value, '$.subscription_id'), json_extract(value, '$.event_id'), json_extract(value, '$.event_type'), 'pending', 0, ?2, ?2
       FROM json_each(?1)`,
      )
      .bind(JSON.stringify(deliveries), now),
  ]);
}

/** Claims (enqueued_at = now) the not yet enqueued deliveries of these events; the claimed ids. */
export async function claimDeliveries(db: D1Database, eventIds: string[], now: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      "UPDATE webhook_deliveries SET enqueued_at = ?2 WHERE event_id IN (SELECT value FROM json_each(?1)) AND enqueued_at IS NULL RETURNING id",
    )
    .bind(JSON.stringify(eventIds), now)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** Releases the claim on these deliveries where no attempt was made yet. */
export async function releaseClaims(db: D1Database, deliveryIds: string[]): Promise<void> {
  await db
    .prepare(
      "UPDATE webhook_deliveries SET enqueued_at = NULL WHERE id IN (SELECT value FROM json_each(?1)) AND attempts = 0",
    )
    .bind(JSON.stringify(deliveryIds))
    .run();
}

/** Events with a delivery claimed before `before` but never attempted (up to 500). */
export async function stuckDeliveryEvents(db: D1Database, before: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      "SELECT DISTINCT event_id FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0 AND last_error IS NULL AND enqueued_at IS NOT NULL AND enqueued_at < ?1 LIMIT 500",
    )
    .bind(before)
    .all<{ event_id: string }>();
  return results.map((r) => r.event_id);
}

/** Releases the claims made before `before` on these events' pending, never attempted deliveries. */
export async function releaseStuckClaims(db: D1Database, eventIds: string[], before: number): Promise<void> {
  await db
    .prepare(
      "UPDATE webhook_deliveries SET enqueued_at = NULL WHERE event_id IN (SELECT value FROM json_each(?1)) AND status = 'pending' AND attempts = 0 AND enqueued_at < ?2",
    )
    .bind(JSON.stringify(eventIds), before)
    .run();
}

/** Deletes, in one D1 batch, attempts and finished deliveries older than `before`, and old events no delivery uses. */
export async function pruneDeliveryLog(db: D1Database, before: number): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM webhook_attempts WHERE at < ?1").bind(before),
    db.prepare("DELETE FROM webhook_deliveries WHERE created_at < ?1 AND status != 'pending'").bind(before),
    db
      .prepare(
        "DELETE FROM webhook_events WHERE created_at < ?1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
      )
      .bind(before),
  ]);
}

/** Stops retrying a delivery whose subscription is no longer active. */
export async function markDeliveryInactive(db: D1Database, deliveryId: string, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE webhook_deliveries SET last_error = 'subscription_inactive', next_attempt_at = NULL, updated_at = ?2 WHERE id = ?1",
    )
    .bind(deliveryId, now)
    .run();
}

/** Marks these deliveries dead (their attempts are used up), except those delivered meanwhile. */
export async function markDeliveriesDead(db: D1Database, deliveryIds: string[], now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL, updated_at = ?2 WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'delivered'",
    )
    .bind(JSON.stringify(deliveryIds), now)
    .run();
}
