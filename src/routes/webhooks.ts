/**
 * Webhook subscriptions of a channel: create (the signing secret shown once), list (subtree),
 * read, change, delete, rotate the secret. A subscription of another subtree answers 404 like
 * an unknown id. URLs pass the SSRF policy (src/security/ssrf.ts) here and again at delivery.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  countSubscriptions,
  deleteSubscription,
  insertSubscription,
  listSubscriptions,
  rotateSubscriptionSecret,
  subscriptionInScope,
  updateSubscription,
} from "../db/webhooks";
import { newId } from "../domain/ids";
import { invalidFilters } from "../domain/webhook-targets";
import { visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { newWebhookSecret, sealWebhookSecret } from "../lib/webhook-secrets";
import type { SubscriptionRow } from "../lib/webhook-send";
import type { Auth } from "../security/auth";
import { requireScope } from "../security/auth";
import { checkWebhookUrl, MAX_URL_LENGTH } from "../security/ssrf";
import { commonErrors, errorResponses, idParam, json, jsonBody, listOf, PageQuery, page } from "./schemas";

export const webhooksApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Webhooks"];

const Url = z.string().min(1).max(MAX_URL_LENGTH).openapi({ example: "https://partner.example.com/hooks/voucher" });
const Events = z
  .array(z.string().min(1).max(64))
  .min(1)
  .max(50)
  .superRefine((f, ctx) => {
    const bad = invalidFilters(f);
    if (bad.length)
      ctx.addIssue({
        code: "custom",
        message: `unknown event filters: ${bad.join(", ").slice(0, 200)}; use a type from the catalogue, "<family>.*" or "*"`,
      });
  })
  .openapi({ example: ["order.*", "stock.low"] });

const WebhookCreate = z
  .object({
    url: Url,
    events: Events,
    description: z.string().trim().max(500).optional(),
    channel_id: z
      .string()
      .regex(/^chn_[a-z0-9_]{1,40}$/)
      .optional()
      .openapi({ description: "Default: the caller's channel; any channel of the caller's subtree" }),
  })
  .strict()
  .openapi("WebhookCreate");
const WebhookPatch = z
  .object({
    url: Url.optional(),
    events: Events.optional(),
    description: z.string().trim().max(500).nullable().optional(),
    status: z.enum(["active", "disabled"]).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "nothing to change")
  .openapi("WebhookPatch");

export const WebhookSchema = z
  .object({
    id: z.string(),
    object: z.literal("webhook_endpoint"),
    channel_id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    status: z.enum(["active", "disabled"]),
    created_at: z.string(),
    updated_at: z.string(),
    secret: z
      .string()
      .optional()
      .openapi({ description: "The signing secret whsec_…: shown once, on creation and rotation" }),
  })
  .openapi("WebhookEndpoint");

export const webhookView = (r: SubscriptionRow) => ({
  id: r.id,
  object: "webhook_endpoint" as const,
  channel_id: r.channel_id,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  description: r.description,
  status: r.status as "active" | "disabled",
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

/** The subscription if the caller's subtree holds it (deleted ones are gone); else 404 like an unknown id. */
export async function visibleSubscription(db: D1Database, auth: Auth, id: string): Promise<SubscriptionRow> {
  const row = await subscriptionInScope(db, id, auth.path);
  if (!row) throw notFound("webhook");
  return row;
}

function checkedUrl(env: Env, url: string): string {
  const verdict = checkWebhookUrl(url, env.ENVIRONMENT);
  if (!verdict.ok) throw unprocessable("invalid_webhook_url", verdict.reason);
  return verdict.url.toString();
}

const idOf = idParam("whk");
const MAX_PER_CHANNEL = 20;

webhooksApp.openapi(
  createRoute({
    method: "post",
    path: "/webhooks",
    tags,
    summary: "Subscribe a URL to events (the signing secret is shown once)",
    request: { body: jsonBody(WebhookCreate) },
    responses: {
      201: json(WebhookSchema, "The subscription, with its secret"),
      ...commonErrors,
      ...errorResponses(422),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:write");
    const body = c.req.valid("json");
    const channelId = body.channel_id ? (await visibleChannel(c.env.DB, auth, body.channel_id)).id : auth.channelId;
    const url = checkedUrl(c.env, body.url);
    // Bounded per channel so one channel cannot multiply every event's fan-out.
    if ((await countSubscriptions(c.env.DB, channelId)) >= MAX_PER_CHANNEL)
      throw unprocessable("too_many_webhooks", `a channel has at most ${MAX_PER_CHANNEL} webhook subscriptions`);
    const id = newId("whk");
    const secret = newWebhookSecret();
    const sealed = await sealWebhookSecret(c.env, id, secret);
    const now = Date.now();
    const row = await insertSubscription(c.env.DB, {
      id,
      channelId,
      url,
      events: JSON.stringify([...new Set(body.events)]),
      description: body.description ?? null,
      sealed: sealed.sealed,
      keyId: sealed.keyId,
      now,
    });
    c.header("Cache-Control", "no-store");
    return c.json({ ...webhookView(row!), secret }, 201);
  },
);

webhooksApp.openapi(
  createRoute({
    method: "get",
    path: "/webhooks",
    tags,
    summary: "Webhook subscriptions of the caller's subtree",
    request: {
      query: PageQuery.extend({
        channel_id: z.string().max(64).optional(),
        status: z.enum(["active", "disabled"]).optional(),
      }),
    },
    responses: { 200: json(listOf(WebhookSchema, "WebhookList"), "Subscriptions"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:read");
    const q = c.req.valid("query");
    const results = await listSubscriptions(c.env.DB, auth.path, q);
    return c.json(page(results.map(webhookView), q.limit), 200);
  },
);

webhooksApp.openapi(
  createRoute({
    method: "get",
    path: "/webhooks/{id}",
    tags,
    summary: "A webhook subscription",
    request: { params: idOf },
    responses: { 200: json(WebhookSchema, "The subscription"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:read");
    return c.json(webhookView(await visibleSubscription(c.env.DB, auth, c.req.valid("param").id)), 200);
  },
);

webhooksApp.openapi(
  createRoute({
    method: "patch",
    path: "/webhooks/{id}",
    tags,
    summary: "Change the URL, the events, the description or the status",
    request: { params: idOf, body: jsonBody(WebhookPatch) },
    responses: { 200: json(WebhookSchema, "The subscription"), ...commonErrors, ...errorResponses(422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:write");
    const current = await visibleSubscription(c.env.DB, auth, c.req.valid("param").id);
    const body = c.req.valid("json");
    const url = body.url === undefined ? current.url : checkedUrl(c.env, body.url);
    const events = body.events === undefined ? current.events : JSON.stringify([...new Set(body.events)]);
    const description = body.description === undefined ? current.description : body.description;
    const row = await updateSubscription(c.env.DB, {
      id: current.id,
      url,
      events,
      description,
      status: body.status ?? current.status,
      now: Date.now(),
    });
    if (!row) throw notFound("webhook");
    return c.json(webhookView(row), 200);
  },
);

webhooksApp.openapi(
  createRoute({
    method: "delete",
    path: "/webhooks/{id}",
    tags,
    summary: "Delete a subscription (pending deliveries are dropped unsent)",
    request: { params: idOf },
    responses: { 200: json(WebhookSchema.extend({ deleted: z.literal(true) }), "Deleted"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:write");
    const current = await visibleSubscription(c.env.DB, auth, c.req.valid("param").id);
    const now = Date.now();
    // Kept as 'deleted' (hidden everywhere) so its delivery log stays for audits; its secret is wiped.
    await deleteSubscription(c.env.DB, current.id, now);
    return c.json(
      { ...webhookView({ ...current, updated_at: now }), status: "disabled" as const, deleted: true as const },
      200,
    );
  },
);

webhooksApp.openapi(
  createRoute({
    method: "post",
    path: "/webhooks/{id}/rotate-secret",
    tags,
    summary: "Replace the signing secret (the new one is shown once)",
    request: { params: idOf },
    responses: { 200: json(WebhookSchema, "The subscription, with its new secret"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "webhooks:write");
    const current = await visibleSubscription(c.env.DB, auth, c.req.valid("param").id);
    const secret = newWebhookSecret();
    const sealed = await sealWebhookSecret(c.env, current.id, secret);
    const row = await rotateSubscriptionSecret(c.env.DB, current.id, sealed, Date.now());
    if (!row) throw notFound("webhook");
    c.header("Cache-Control", "no-store");
    return c.json({ ...webhookView(row), secret }, 200);
  },
);
