/** /v1/audit: read the append-only audit log (newest first). There is no route that changes it. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { listAudit } from "../db/audit";
import type { AuditEntry } from "../lib/audit";
import type { AppEnv } from "../lib/context";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { commonErrors, IsoDate, json, listOf, PageQuery, page } from "./schemas";

export const auditApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Audit"];

const AuditEntrySchema = z
  .object({
    id: z.string(),
    object: z.literal("audit_entry"),
    at: z.string(),
    actor_key_id: z.string().openapi({ description: 'The API key (or "admin_token") that made the request' }),
    actor_channel_id: z.string(),
    action: z.string().openapi({ example: "POST /v1/products/{id}/batches" }),
    resource_id: z.string().nullable(),
    status: z.number().int(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string().nullable(),
  })
  .openapi("AuditEntry");

const AuditQuery = PageQuery.extend({
  actor_key_id: z.string().max(64).optional(),
  action: z.string().max(200).optional().openapi({ description: 'Prefix of the action, e.g. "POST /v1/products"' }),
  resource_id: z.string().max(64).optional(),
  from: IsoDate.optional().openapi({ description: "Entries at or after this instant" }),
  to: IsoDate.optional().openapi({ description: "Entries before this instant" }),
});

const view = (r: AuditEntry) => ({
  id: r.id,
  object: "audit_entry" as const,
  at: new Date(r.at).toISOString(),
  actor_key_id: r.actor_key_id,
  actor_channel_id: r.actor_channel_id,
  action: r.action,
  resource_id: r.resource_id,
  status: r.status,
  ip: r.ip,
  user_agent: r.user_agent,
  request_id: r.request_id,
});

auditApp.openapi(
  createRoute({
    method: "get",
    path: "/audit",
    tags,
    summary: "Audit entries of the caller's subtree (admin mutations and code reveals), newest first",
    request: { query: AuditQuery },
    responses: { 200: json(listOf(AuditEntrySchema, "AuditList"), "A page of audit entries"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "audit:read");
    const q = c.req.valid("query");
    // The root sees everything; a channel only what was done by keys of its subtree.
    const results = await listAudit(c.env.DB, {
      scopePath: auth.root ? null : auth.path,
      actor_key_id: q.actor_key_id,
      action: q.action,
      resource_id: q.resource_id,
      from: q.from ? Date.parse(q.from) : undefined,
      to: q.to ? Date.parse(q.to) : undefined,
      cursor: q.cursor,
      limit: q.limit,
    });
    c.header("Cache-Control", "no-store");
    return c.json(page(results.map(view), q.limit), 200);
  },
);
