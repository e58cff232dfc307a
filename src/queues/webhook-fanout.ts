/**
 * Webhook fan-out, called by the events consumer after its D1 batch committed. For every
 * deliverable event it finds the subscriptions whose channel is the event's channel or an
 * ancestor of it and whose filters match, stores the event (for replay) and one delivery per
 * (subscription, event) — unique, so a redelivered event adds nothing — and sends one WEBHOOKS
 * message per delivery, carrying its id only. Deliveries are claimed (enqueued_at) before the
 * send, so two overlapping runs never enqueue the same delivery twice; a failed send releases
 * the claim and throws, and the events message is retried.
 */
import { newId } from "../domain/ids";
import { eventChannel, isDeliverable, type SubscriptionTarget, targetsFor } from "../domain/webhook-targets";
import type { DomainEvent } from "../objects/outbox";

export interface WebhookMessage {
  delivery_id: string;
}

async function activeSubscriptions(db: D1Database): Promise<SubscriptionTarget[]> {
  const { results } = await db
    .prepare(
      "SELECT s.id, s.events, c.path FROM webhook_subscriptions s JOIN channels c ON c.id = s.channel_id WHERE s.status = 'active'",
    )
    .all<{ id: string; events: string; path: string }>();
  return results.map((r) => ({ id: r.id, path: r.path, events: JSON.parse(r.events) as string[] }));
}

async function channelPaths(db: D1Database, ids: string[]): Promise<Map<string, string>> {
  const { results } = await db
    .prepare("SELECT id, path FROM channels WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(ids))
    .all<{ id: string; path: string }>();
  return new Map(results.map((r) => [r.id, r.path]));
}

/** Stores what is new and enqueues it; returns how many WEBHOOKS messages were sent. */
export async function fanOutWebhooks(env: Env, events: DomainEvent[]): Promise<number> {
  const unique = new Map<string, DomainEvent>();
  for (const e of events) if (e && typeof e.type === "string" && isDeliverable(e.type)) unique.set(e.id, e);
  if (unique.size === 0) return 0;
  const subs = await activeSubscriptions(env.DB);
  if (subs.length === 0) return 0;
  const paths = await channelPaths(env.DB, [...new Set([...unique.values()].map(eventChannel))]);
  const now = Date.now();
  const stored: DomainEvent[] = [];
  const deliveries: { id: string; subscription_id: string; event_id: string; event_type: string }[] = [];
  for (const event of unique.values()) {
    const targets = targetsFor(event, paths.get(eventChannel(event)) ?? null, subs);
    if (targets.length === 0) continue;
    stored.push(event);
    for (const subscription_id of targets)
      deliveries.push({ id: newId("dlv", now), subscription_id, event_id: event.id, event_type: event.type });
  }
  if (deliveries.length === 0) return 0;
  await env.DB.batch([
    env.DB.prepare(
      `INSERT OR IGNORE INTO webhook_events (id, type, source, seq, body, created_at)
       SELECT json_extract(value, '$.id'), json_extract(value, '$.type'), json_extract(value, '$.source'), json_extract(value, '$.seq'), value, ?2 FROM json_each(?1)`,
    ).bind(JSON.stringify(stored), now),
    env.DB.prepare(
      `INSERT OR IGNORE INTO webhook_deliveries (id, subscription_id, event_id, event_type, status, attempts, created_at, updated_at)
       SELECT json_extract(value, '$.id'), json_extract(value, '$.subscription_id'), json_extract(value, '$.event_id'), json_extract(value, '$.event_type'), 'pending', 0, ?2, ?2
       FROM json_each(?1)`,
    ).bind(JSON.stringify(deliveries), now),
  ]);
  return enqueuePending(
    env,
    stored.map((e) => e.id),
    now,
  );
}

/** Claims the not yet enqueued deliveries of these events and sends their messages. */
export async function enqueuePending(env: Env, eventIds: string[], now = Date.now()): Promise<number> {
  const { results } = await env.DB.prepare(
    "UPDATE webhook_deliveries SET enqueued_at = ?2 WHERE event_id IN (SELECT value FROM json_each(?1)) AND enqueued_at IS NULL RETURNING id",
  )
    .bind(JSON.stringify(eventIds), now)
    .all<{ id: string }>();
  const ids = results.map((r) => r.id);
  try {
    for (let i = 0; i < ids.length; i += 100) {
      await env.WEBHOOKS.sendBatch(
        ids
          .slice(i, i + 100)
          .map((delivery_id) => ({ body: { delivery_id } satisfies WebhookMessage, contentType: "json" as const })),
      );
    }
  } catch (err) {
    // Release the claim so the retried events message enqueues them again (a delivery sent twice is dropped by its status).
    await env.DB.prepare(
      "UPDATE webhook_deliveries SET enqueued_at = NULL WHERE id IN (SELECT value FROM json_each(?1)) AND attempts = 0",
    )
      .bind(JSON.stringify(ids))
      .run()
      .catch(() => undefined);
    throw err;
  }
  return ids.length;
}

/**
 * Safety net for the cron: deliveries stored but never enqueued (a crash between claim and
 * send) are claimed again after an hour without any attempt.
 */
export async function sweepStuckDeliveries(env: Env, now = Date.now()): Promise<number> {
  const { results } = await env.DB.prepare(
    "SELECT DISTINCT event_id FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0 AND last_error IS NULL AND enqueued_at IS NOT NULL AND enqueued_at < ?1 LIMIT 500",
  )
    .bind(now - 60 * 60_000)
    .all<{ event_id: string }>();
  if (results.length === 0) return 0;
  const eventIds = results.map((r) => r.event_id);
  await env.DB.prepare(
    "UPDATE webhook_deliveries SET enqueued_at = NULL WHERE event_id IN (SELECT value FROM json_each(?1)) AND status = 'pending' AND attempts = 0 AND enqueued_at < ?2",
  )
    .bind(JSON.stringify(eventIds), now - 60 * 60_000)
    .run();
  return enqueuePending(env, eventIds, now);
}

/** The delivery log is kept 30 days (attempts, finished deliveries, and events no delivery refers to any more). */
export const WEBHOOK_LOG_DAYS = 30;

export async function webhookHousekeeping(env: Env, now = Date.now()): Promise<void> {
  await sweepStuckDeliveries(env, now);
  const before = now - WEBHOOK_LOG_DAYS * 86_400_000;
  await env.DB.batch([
    env.DB.prepare("DELETE FROM webhook_attempts WHERE at < ?1").bind(before),
    env.DB.prepare("DELETE FROM webhook_deliveries WHERE created_at < ?1 AND status != 'pending'").bind(before),
    env.DB.prepare(
      "DELETE FROM webhook_events WHERE created_at < ?1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
    ).bind(before),
  ]);
}
