/**
 * Consumers of `voucher-webhooks` (one message per delivery: send, record, retry with backoff)
 * and `voucher-webhooks-dlq` (a delivery whose attempts are used up is marked dead).
 * A message carries a delivery id only; the body is rebuilt from the stored event.
 */
import { markDeliveriesDead, markDeliveryInactive } from "../db/webhook-deliveries";
import { backoffScale, retryDelaySeconds } from "../domain/webhook-backoff";
import { attemptDelivery, loadDelivery } from "../lib/webhook-send";
import type { WebhookMessage } from "./webhook-fanout";

const deliveryIdOf = (body: unknown) => {
  const id = (body as WebhookMessage | null)?.delivery_id;
  return typeof id === "string" && /^dlv_[a-z0-9]{1,40}$/.test(id) ? id : null;
};

function log(fields: Record<string, unknown>) {
  console.log(JSON.stringify({ level: "info", at: "webhooks", ...fields }));
}

async function deliverOne(message: Message<WebhookMessage>, env: Env, scale: number): Promise<void> {
  const id = deliveryIdOf(message.body);
  if (!id) return message.ack();
  const ctx = await loadDelivery(env.DB, id);
  // Already delivered (or dead, or gone): a duplicate message sends nothing.
  if (!ctx || ctx.delivery.status === "delivered" || ctx.delivery.status === "dead") return message.ack();
  if (ctx.sub?.status !== "active") {
    await markDeliveryInactive(env.DB, id, Date.now());
    return message.ack();
  }
  const delay = retryDelaySeconds(message.attempts, scale, Math.random());
  const result = await attemptDelivery(env, ctx, "queue", (ok) =>
    ok || delay === null ? null : Date.now() + delay * 1000,
  );
  log({
    delivery_id: id,
    attempt: result.attempt,
    ok: result.ok,
    status_code: result.status_code,
    error: result.error,
    duration_ms: result.duration_ms,
  });
  if (result.ok) return message.ack();
  // With no delay left this is the last attempt: retrying hands the message to the dead-letter queue.
  message.retry({ delaySeconds: delay ?? 0 });
}

export async function handleWebhookDeliveries(batch: MessageBatch<WebhookMessage>, env: Env): Promise<void> {
  const scale = backoffScale((env as unknown as Record<string, unknown>).WEBHOOK_BACKOFF_SCALE);
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        await deliverOne(message, env, scale);
      } catch (err) {
        console.error(
          JSON.stringify({
            level: "error",
            at: "webhooks",
            error: err instanceof Error ? err.message.slice(0, 200) : "unknown",
          }),
        );
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts, scale, Math.random()) ?? 0 });
      }
    }),
  );
}

export async function handleWebhookDeadLetters(batch: MessageBatch<WebhookMessage>, env: Env): Promise<void> {
  const now = Date.now();
  const ids = batch.messages.map((m) => deliveryIdOf(m.body)).filter((x): x is string => x !== null);
  if (ids.length > 0) {
    await markDeliveriesDead(env.DB, ids, now);
    log({ dead: ids });
  }
  batch.ackAll();
}
