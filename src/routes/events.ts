/** GET /v1/events: what happened in the caller's subtree (orders, redemptions, stock, top-ups), newest first. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { listEvents } from "../db/event-log";
import type { AppEnv } from "../lib/context";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { commonErrors, json, listOf, PageQuery, page } from "./schemas";

export const eventsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const EventEntry = z
  .object({
    id: z.string(),
    object: z.literal("event"),
    type: z.string(),
    channel_id: z.string(),
    subject_id: z.string().nullable().openapi({ description: "The order, redemption or product the event is about" }),
    summary: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).openapi({
      description: "Safe fields only: never a code, a PIN or a secret",
    }),
    created_at: z.string(),
  })
  .openapi("EventLogEntry");

eventsApp.openapi(
  createRoute({
    method: "get",
    path: "/events",
    tags: ["Events"],
    summary: "The event log of the caller's subtree, newest first",
    request: {
      query: PageQuery.extend({
        type: z
          .string()
          .regex(/^[a-z_]+(\.[a-z_]*)?$/)
          .max(64)
          .optional()
          .openapi({ description: "One type (order.fulfilled) or a prefix ending in a dot (order.)" }),
      }),
    },
    responses: { 200: json(listOf(EventEntry, "EventLog"), "A page of events"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const q = c.req.valid("query");
    const rows = await listEvents(c.env.DB, auth.path, q);
    const data = rows.map((r) => ({
      id: r.id,
      object: "event" as const,
      type: r.type,
      channel_id: r.channel_id,
      subject_id: r.subject_id,
      summary: JSON.parse(r.summary) as Record<string, string | number | null>,
      created_at: new Date(r.created_at).toISOString(),
    }));
    return c.json(page(data, q.limit), 200);
  },
);
