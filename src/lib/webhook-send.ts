/**
 * One delivery attempt, shared by the queue consumer, replay and ping: check the URL policy
 * again (it may have changed since the subscription was made), sign, POST without following
 * redirects, with a timeout, and record the attempt and its outcome on the delivery.
 */
import { channelsUnder } from "../db/channels";
import { getDelivery, recordAttempt, webhookEventBody } from "../db/webhook-deliveries";
import { getSubscription } from "../db/webhooks";
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
  const delivery = await getDelivery(db, deliveryId);
  if (!delivery) return null;
  const [sub, body] = await Promise.all([
    getSubscription(db, delivery.subscription_id),
    webhookEventBody(db, delivery.event_id),
  ]);
  return { delivery, sub, event: body !== null ? (JSON.parse(body) as DomainEvent) : null };
}

/** A settlement's shares outside the subscriber's subtree are not the subscriber's to see. */
async function scopedToSubscriber(db: D1Database, sub: SubscriptionRow, event: DomainEvent): Promise<DomainEvent> {
  if (event.type !== "settlement.posted" || sub.channel_id === ROOT_CHANNEL_ID) return event;
  const ids = ((event.data as { shares?: { channel_id: string }[] }).shares ?? []).map((s) => s.channel_id);
  return settlementFor(event, await channelsUnder(db, sub.channel_id, ids), false) as DomainEvent;
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
  const attempt = await recordAttempt(env.DB, {
    deliveryId: delivery.id,
    trigger,
    ok,
    statusCode: outcome.status_code,
    error: outcome.error,
    durationMs: duration_ms,
    nextAttemptAt: nextAttemptAt(ok),
    now,
  });
  return { ok, attempt: attempt ?? delivery.attempts + 1, ...outcome, duration_ms };
}
