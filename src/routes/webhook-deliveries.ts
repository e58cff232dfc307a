/**
 * The delivery log of a webhook subscription, manual replay, and ping. Replay and ping send
 * synchronously (one attempt, recorded like any other) and answer with the outcome.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { deliveryAttempts, deliveryBelongsTo, getDelivery, insertPing, listDeliveries } from "../db/webhook-deliveries";
import { newId } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { conflict, notFound } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { attemptDelivery, type DeliveryRow, loadDelivery } from "../lib/webhook-send";
import type { DomainEvent } from "../objects/outbox";
import { requireScope } from "../security/auth";
import { commonErrors, errorResponses, idParam, json, listOf, PageQuery, page } from "./schemas";
import { visibleSubscription } from "./webhooks";

export const webhookDeliveriesApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Webhooks"];
const STATUSES = ["pending", "delivered", "failed", "dead"] as const;

const Attempt = z.object({
  attempt: z.number(),
  trigger: z.enum(["queue", "replay", "ping"]),
  status_code: z.number().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number(),
  at: z.string(),
});
const DeliverySchema = z
  .object({
    id: z.string(),
    object: z.literal("webhook_delivery"),
    webhook_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    status: z.enum(STATUSES),
    attempts: z.number(),
    last_status_code: z.number().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("WebhookDelivery");
const DeliveryDetail = DeliverySchema.extend({ attempt_log: z.array(Attempt) }).openapi("WebhookDeliveryDetail");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const view = (r: DeliveryRow) => ({
  id: r.id,
  object: "webhook_delivery" as const,
  webhook_id: r.subscription_id,
  event_id: r.event_id,
  event_type: r.event_type,
  status: r.status as (typeof STATUSES)[number],
  attempts: r.attempts,
  last_status_code: r.last_status_code,
  last_error: r.last_error,
  next_attempt_at: iso(r.next_attempt_at),
  delivered_at: iso(r.delivered_at),
  created_at: iso(r.created_at)!,
  updated_at: iso(r.updated_at)!,
});

async function detail(db: D1Database, deliveryId: string) {
  const [row, attempts] = await Promise.all([getDelivery(db, deliveryId), deliveryAttempts(db, deliveryId)]);
  if (!row) throw notFound("delivery");
  return { ...view(row), attempt_log: attempts.map((a) => ({ ...a, at: new Date(a.at).toISOString() })) };
}

const subParam = idParam("whk");
const deliveryParam = subParam.merge(idParam("dlv", "delivery_id"));

webhookDeliveriesApp.openapi(
  createRoute({
    method: "get",
    path: "/webhooks/{id}/deliveries",
    tags,
    summary: "The delivery log of a subscription, newest first",
    request: {
      params: subParam,
      query: PageQuery.extend({ status: z.enum(STATUSES).optional(), event_type: z.string().max(64).optional() }),
    },
    responses: { 200: json(listOf(DeliverySchema, "WebhookDeliveryList"), "Deliveries"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:read");
    const sub = await visibleSubscription(c.env.DB, auth, c.req.valid("param").id);
    const q = c.req.valid("query");
    const results = await listDeliveries(c.env.DB, sub.id, q);
    return c.json(page(results.map(view), q.limit), 200);
  },
);

async function deliveryOf(db: D1Database, subscriptionId: string, deliveryId: string): Promise<void> {
  if (!(await deliveryBelongsTo(db, deliveryId, subscriptionId))) throw notFound("delivery");
}

webhookDeliveriesApp.openapi(
  createRoute({
    method: "get",
    path: "/webhooks/{id}/deliveries/{delivery_id}",
    tags,
    summary: "A delivery with every attempt",
    request: { params: deliveryParam },
    responses: { 200: json(DeliveryDetail, "The delivery"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:read");
    const { id, delivery_id } = c.req.valid("param");
    const sub = await visibleSubscription(c.env.DB, auth, id);
    await deliveryOf(c.env.DB, sub.id, delivery_id);
    return c.json(await detail(c.env.DB, delivery_id), 200);
  },
);

webhookDeliveriesApp.openapi(
  createRoute({
    method: "post",
    path: "/webhooks/{id}/deliveries/{delivery_id}/replay",
    tags,
    summary: "Send a delivery again now, as a new attempt (also for dead ones)",
    request: { params: deliveryParam },
    responses: { 200: json(DeliveryDetail, "The delivery after the attempt"), ...commonErrors, ...errorResponses(409) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:write");
    const { id, delivery_id } = c.req.valid("param");
    const sub = await visibleSubscription(c.env.DB, auth, id);
    if (sub.status !== "active")
      throw conflict("webhook_disabled", "the subscription is disabled; enable it before replaying");
    await deliveryOf(c.env.DB, sub.id, delivery_id);
    const ctx = await loadDelivery(c.env.DB, delivery_id);
    await attemptDelivery(c.env, ctx!, "replay");
    return c.json(await detail(c.env.DB, delivery_id), 200);
  },
);

webhookDeliveriesApp.openapi(
  createRoute({
    method: "post",
    path: "/webhooks/{id}/ping",
    tags,
    summary: "Send a webhook.ping event now to test the endpoint",
    request: { params: subParam },
    responses: {
      200: json(DeliveryDetail, "The ping delivery and its attempt"),
      ...commonErrors,
      ...errorResponses(409),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:write");
    const sub = await visibleSubscription(c.env.DB, auth, c.req.valid("param").id);
    if (sub.status !== "active")
      throw conflict("webhook_disabled", "the subscription is disabled; enable it before pinging");
    const now = Date.now();
    // A ping is its own resource (the subscription); its sequence is the send time in ms, so it only rises.
    const event: DomainEvent = {
      id: newId("evt", now),
      type: "webhook.ping",
      created_at: new Date(now).toISOString(),
      source: `webhook:${sub.id}`,
      seq: now,
      data: { webhook_id: sub.id, channel_id: sub.channel_id },
    };
    const deliveryId = newId("dlv", now);
    await insertPing(c.env.DB, event, deliveryId, sub.id, now);
    const ctx = await loadDelivery(c.env.DB, deliveryId);
    await attemptDelivery(c.env, ctx!, "ping");
    return c.json(await detail(c.env.DB, deliveryId), 200);
  },
);
