/**
 * One delivery attempt, shared by the queue consumer, replay and ping: check the URL policy
 * again (it may have changed since the subscription was made), sign, POST without following
 * redirects, with a timeout, and record the attempt and its outcome on the delivery.
 */
import { ROOT_CHANNEL_ID } from "../domain/ids";
import { signPayload } from "../domain/webhook-signature";
import { deliveryBody, settlementFor } from "../domain/webhook-targets";
import type { DomainEvent } from "../objects/outbox";
import { checkWebhookUrl } from "../security/ssrf";
import { openWebhookSecret } from "./webhook-secrets";

export const USER_AGENT = "VoucherEdge-Webhooks/1";

export interface SubscriptionRow {
  id: string;
  channel_id: string;
  url: string;
  events: string;
  description: string | null;
  status: string;
  secret_sealed: string;
  secret_key_id: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}
export interface DeliveryRow {
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  enqueued_at: number | null;
  delivered_at: number | null;
  created_at: number;
  updated_at: number;
}
export interface DeliveryContext {
  delivery: DeliveryRow;
  sub: SubscriptionRow | null;
  event: DomainEvent | null;
}
export interface AttemptResult {
  ok: boolean;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export async function loadDelivery(db: D1Database, deliveryId: string): Promise<DeliveryContext | null> {
  const delivery = await db
    .prepare("SELECT * FROM webhook_deliveries WHERE id = ?1")
    .bind(deliveryId)
    .first<DeliveryRow>();
  if (!delivery) return null;
  const [sub, ev] = await Promise.all([
    db
      .prepare("SELECT * FROM webhook_subscriptions WHERE id = ?1")
      .bind(delivery.subscription_id)
      .first<SubscriptionRow>(),
    db.prepare("SELECT body FROM webhook_events WHERE id = ?1").bind(delivery.event_id).first<{ body: string }>(),
  ]);
  return { delivery, sub, event: ev ? (JSON.parse(ev.body) as DomainEvent) : null };
}

/** A settlement's shares outside the subscriber's subtree are not the subscriber's to see. */
async function scopedToSubscriber(db: D1Database, sub: SubscriptionRow, event: DomainEvent): Promise<DomainEvent> {
  if (event.type !== "settlement.posted" || sub.channel_id === ROOT_CHANNEL_ID) return event;
  const ids = ((event.data as { shares?: { channel_id: string }[] }).shares ?? []).map((s) => s.channel_id);
  const { results } = await db
    .prepare(
      `SELECT c.id FROM channels c, channels s WHERE s.id = ?1 AND c.id IN (SELECT value FROM json_each(?2))
         AND substr(c.path, 1, length(s.path)) = s.path`,
    )
    .bind(sub.channel_id, JSON.stringify(ids))
    .all<{ id: string }>();
  return settlementFor(event, new Set(results.map((r) => r.id)), false) as DomainEvent;
}

function timeoutMs(env: Env): number {
  const n = Number((env as unknown as Record<string, unknown>).WEBHOOK_TIMEOUT_MS);
  return Number.isFinite(n) && n >= 100 && n <= 30_000 ? n : 10_000;
}

async function send(
  env: Env,
  sub: SubscriptionRow,
  delivery: DeliveryRow,
  event: DomainEvent,
): Promise<{ status_code: number | null; error: string | null }> {
  const verdict = checkWebhookUrl(sub.url, env.ENVIRONMENT);
  if (!verdict.ok) return { status_code: null, error: `url_refused: ${verdict.reason}` };
  const body = deliveryBody(await scopedToSubscriber(env.DB, sub, event));
  const secret = await openWebhookSecret(env, sub.id, sub.secret_sealed, sub.secret_key_id);
  const signature = await signPayload(secret, body, Date.now() / 1000);
  try {
    const res = await fetch(verdict.url.toString(), {
      method: "POST",
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs(env)),
      headers: {
        "Content-Type": "application/json",
        "Voucher-Signature": signature,
        "Voucher-Event-Id": event.id,
        "Voucher-Delivery-Id": delivery.id,
        "User-Agent": USER_AGENT,
      },
    });
    await res.body?.cancel().catch(() => undefined); // the receiver's answer body is never read nor stored
    if (res.status >= 200 && res.status < 300) return { status_code: res.status, error: null };
    if (res.status >= 300 && res.status < 400) return { status_code: res.status, error: "redirect_not_followed" };
    return { status_code: res.status, error: `http_${res.status}` };
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    return {
      status_code: null,
      error:
        name === "TimeoutError" || name === "AbortError"
          ? "timeout"
          : `network_error: ${err instanceof Error ? err.message.slice(0, 120) : "unknown"}`,
    };
  }
}

/** Sends one attempt now and records it. `nextAttemptAt` is set by the caller that schedules a retry. */
export async function attemptDelivery(
  env: Env,
  ctx: DeliveryContext,
  trigger: "queue" | "replay" | "ping",
  nextAttemptAt: (ok: boolean) => number | null = () => null,
): Promise<AttemptResult> {
  const { delivery, sub, event } = ctx;
  const start = Date.now();
  const outcome =
    sub && event
      ? await send(env, sub, delivery, event)
      : { status_code: null, error: event ? "subscription_missing" : "event_missing" };
  const ok = outcome.error === null;
  const now = Date.now();
  const duration_ms = now - start;
  const [, attempt] = await env.DB.batch<{ attempts: number }>([
    env.DB.prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = ?2, last_error = ?3, updated_at = ?4, next_attempt_at = ?5,
         status = CASE WHEN ?6 = 1 THEN 'delivered' WHEN status IN ('delivered', 'dead') THEN status ELSE 'failed' END,
         delivered_at = CASE WHEN ?6 = 1 THEN ?4 ELSE delivered_at END
       WHERE id = ?1`,
    ).bind(delivery.id, outcome.status_code, outcome.error, now, nextAttemptAt(ok), ok ? 1 : 0),
    env.DB.prepare(
      `INSERT INTO webhook_attempts (delivery_id, attempt, trigger, status_code, error, duration_ms, at)
       SELECT ?1, attempts, ?2, ?3, ?4, ?5, ?6 FROM webhook_deliveries WHERE id = ?1 RETURNING attempt AS attempts`,
    ).bind(delivery.id, trigger, outcome.status_code, outcome.error, duration_ms, now),
  ]);
  return { ok, attempt: attempt.results[0]?.attempts ?? delivery.attempts + 1, ...outcome, duration_ms };
}
