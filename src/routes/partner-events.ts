/**
 * POST /v1/events: what a partner tells us about its customers. Today one type, `conversion` (the customer
 * bought or subscribed after a trial): credited once per Idempotency-Key to every campaign claim the customer made
 * in the caller's subtree before it, so each campaign's funnel shows conversions, value, cost per acquisition
 * and ROI (docs/campaigns.md). GET /v1/events (the event log) is ./events.ts.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { recordConversion } from "../db/campaigns";
import { newId } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { conflict } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { IdempotencyHeader } from "./order-schemas";
import { commonErrors, errorResponses, json, jsonBody, Money } from "./schemas";

export const partnerEventsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const EventCreate = z
  .discriminatedUnion("type", [
    z
      .object({
        type: z.literal("conversion"),
        customer_ref: z.string().trim().min(1).max(200),
        value: Money.openapi({ description: "What the conversion brought, in minor units of the campaign's currency" }),
      })
      .strict(),
  ])
  .openapi("PartnerEventCreate");

const EventAccepted = z
  .object({
    id: z.string(),
    object: z.literal("partner_event"),
    type: z.literal("conversion"),
    customer_ref: z.string(),
    value: z.number(),
    credited_claims: z.number().openapi({ description: "Claims this call credited (0 on a replay)" }),
    created_at: z.string(),
  })
  .openapi("PartnerEvent");

partnerEventsApp.openapi(
  createRoute({
    method: "post",
    path: "/events",
    tags: ["Campaigns"],
    summary: "Tell us about a customer: a conversion, credited to their campaign claims (idempotent)",
    request: { headers: IdempotencyHeader, body: jsonBody(EventCreate) },
    responses: { 202: json(EventAccepted, "Recorded"), ...commonErrors, ...errorResponses(409) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:write");
    const body = c.req.valid("json");
    const now = Date.now();
    const { event, credited } = await recordConversion(
      c.env.DB,
      {
        id: newId("evt", now),
        channel_id: auth.channelId,
        idem_key: c.req.valid("header")["idempotency-key"],
        type: body.type,
        customer_ref: body.customer_ref,
        value: body.value,
        created_at: now,
      },
      auth.path,
    );
    if (event.customer_ref !== body.customer_ref || event.value !== body.value || event.type !== body.type)
      throw conflict("idempotency_mismatch", "this Idempotency-Key was used with a different event");
    return c.json(
      {
        id: event.id,
        object: "partner_event" as const,
        type: "conversion" as const,
        customer_ref: event.customer_ref,
        value: event.value,
        credited_claims: credited,
        created_at: new Date(event.created_at).toISOString(),
      },
      202,
    );
  },
);
