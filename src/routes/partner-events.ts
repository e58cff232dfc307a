/**
 * POST /v1/events: what a partner tells us about its customers, once per Idempotency-Key (docs/campaigns.md).
 * - `customer.registered`: every active campaign of the caller's subtree that grants on it claims a code for the
 *   customer through the `voucher-campaigns` queue, announced by a `campaign.claimed` webhook (claim id, no code).
 * - `conversion` (the customer paid after a trial): credited to every claim the customer made in the subtree
 *   before it, so each campaign's funnel shows conversions, value, cost per acquisition and ROI.
 * GET /v1/events (the event log) is ./events.ts.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { type PartnerEvent, recordPartnerEvent } from "../db/campaigns";
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
    z.object({ type: z.literal("customer.registered"), customer_ref: z.string().trim().min(1).max(200) }).strict(),
  ])
  .openapi("PartnerEventCreate");

const EventAccepted = z
  .object({
    id: z.string(),
    object: z.literal("partner_event"),
    type: z.enum(["conversion", "customer.registered"]),
    customer_ref: z.string(),
    value: z.number(),
    credited_claims: z
      .number()
      .openapi({ description: "conversion: claims this call credited (0 on a replay); customer.registered: 0" }),
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
    const fresh: PartnerEvent = {
      id: newId("evt", now),
      channel_id: auth.channelId,
      idem_key: c.req.valid("header")["idempotency-key"],
      type: body.type,
      customer_ref: body.customer_ref,
      value: body.type === "conversion" ? body.value : 0,
      created_at: now,
    };
    const { event, credited } = await recordPartnerEvent(c.env.DB, fresh, auth.path);
    if (event.customer_ref !== fresh.customer_ref || event.value !== fresh.value || event.type !== fresh.type)
      throw conflict("idempotency_mismatch", "this Idempotency-Key was used with a different event");
    // Sent on a replay too: if the first call's send was lost, this one delivers it (claims are keyed by the event).
    if (event.type === "customer.registered")
      await c.env.CAMPAIGNS.send({ event_id: event.id, path: auth.path, customer_ref: event.customer_ref });
    return c.json(
      {
        id: event.id,
        object: "partner_event" as const,
        type: event.type as "conversion" | "customer.registered",
        customer_ref: event.customer_ref,
        value: event.value,
        credited_claims: credited,
        created_at: new Date(event.created_at).toISOString(),
      },
      202,
    );
  },
);
