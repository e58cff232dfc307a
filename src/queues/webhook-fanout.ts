/**
 * Webhook fan-out, called by the events consumer after its D1 batch committed. For every
 * deliverable event it finds the subscriptions whose channel is the event's channel or an
 * ancestor of it and whose filters match, stores the event (for replay) and one delivery per
 * (subscription, event) — unique, so a redelivered event adds nothing — and sends one WEBHOOKS
 * message per delivery, carrying its id only. Deliveries are claimed (enqueued_at) before the
 * send, so two overlapping runs never enqueue the same delivery twice; a failed send releases
 * the claim and throws, and the events message is retried.
 */
import { channelPaths } from "../db/channels";
import {
  claimDeliveries,
  pruneDeliveryLog,
  releaseClaims,
  releaseStuckClaims,
  storeDeliveries,
  stuckDeliveryEvents,
} from "../db/webhook-deliveries";
import { activeSubscriptionPaths } from "../db/webhooks";
import { newId } from "../domain/ids";
import { eventChannel, isDeliverable, type SubscriptionTarget, targetsFor } from "../domain/webhook-targets";
import type { DomainEvent } from "../objects/outbox";

export interface WebhookMessage {
  delivery_id: string;
}

async function activeSubscriptions(db: D1Database): Promise<SubscriptionTarget[]> {
  return (await activeSubscriptionPaths(db)).map((r) => ({
    id: r.id,
    path: r.path,
    events: JSON.parse(r.events) as string[],
  }));
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
  await storeDeliveries(env.DB, stored, deliveries, now);
  return enqueuePending(
    env,
    stored.map((e) => e.id),
    now,
  );
}

/** Claims the not yet enqueued deliveries of these events and sends their messages. */
export async function enqueuePending(env: Env, eventIds: string[], now = Date.now()): Promise<number> {
  const ids = await claimDeliveries(env.DB, eventIds, now);
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
    await releaseClaims(env.DB, ids).catch(() => undefined);
    throw err;
  }
  return ids.length;
}

/**
 * Safety net for the cron: deliveries stored but never enqueued (a crash between claim and
 * send) are claimed again after an hour without any attempt.
 */
export async function sweepStuckDeliveries(env: Env, now = Date.now()): Promise<number> {
  const eventIds = await stuckDeliveryEvents(env.DB, now - 60 * 60_000);
  if (eventIds.length === 0) return 0;
  await releaseStuckClaims(env.DB, eventIds, now - 60 * 60_000);
  return enqueuePending(env, eventIds, now);
}

/** The delivery log is kept 30 days (attempts, finished deliveries, and events no delivery refers to any more). */
export const WEBHOOK_LOG_DAYS = 30;

export async function webhookHousekeeping(env: Env, now = Date.now()): Promise<void> {
  await sweepStuckDeliveries(env, now);
  const before = now - WEBHOOK_LOG_DAYS * 86_400_000;
  await pruneDeliveryLog(env.DB, before);
}
