/**
 * The audit middleware: after the handler, one append-only row in D1 `audit_log` for every
 * authenticated mutation (POST/PUT/PATCH/DELETE, success or failure) and every code reveal
 * (GET /v1/orders/{id}). Written with waitUntil, so it never slows or breaks the response.
 * It records who, what, when and from where — never a request or response body (they may
 * hold codes, PINs or key secrets): only the response's top-level `id` is read from it.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { insertAudit } from "../db/audit";
import { newId } from "../domain/ids";
import type { AppEnv } from "./context";

const MUTATIONS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** GET routes that reveal codes or hand out data in bulk, by route pattern. */
const REVEALS = new Set(["GET /v1/orders/{id}", "GET /v1/exports/{id}/file"]);
const ID_SHAPE = /^[a-z]{3}_[a-z0-9]{1,60}$/;

export interface AuditEntry {
  id: string;
  at: number;
  actor_key_id: string;
  actor_channel_id: string;
  action: string;
  resource_id: string | null;
  status: number;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

/** The matched route's pattern in OpenAPI form ("/v1/orders/{id}"), or null when no route matched. */
function routePattern(c: Context, method: string): string | null {
  const routes = matchedRoutes(c).filter((r) => r.method === method && r.path !== "/*" && !r.path.endsWith("*"));
  const path = routes.length ? routes[routes.length - 1].path : null;
  return path ? path.replace(/:([A-Za-z_][\w]*)(\{[^}]*\})?/g, "{$1}") : null;
}

/** The values of the pattern's path parameters in the actual path, last one last. */
function pathParams(pattern: string, path: string): string[] {
  const names: string[] = [];
  const source = pattern
    .split(/(\{[^}]+\})/)
    .map((part) => {
      if (/^\{[^}]+\}$/.test(part)) {
        names.push(part);
        return "([^/]+)";
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  const m = new RegExp(`^${source}/?$`).exec(path);
  return m
    ? m.slice(1).map((v) => {
        try {
          return decodeURIComponent(v);
        } catch {
          return v;
        }
      })
    : [];
}

const clip = (v: string | undefined | null, max: number) => (v ? v.slice(0, max) : null);

export const auditLog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const auth = c.get("auth");
  const status = c.res.status;
  if (!auth || status === 401) return;
  const method = c.req.method.toUpperCase();
  const pattern = routePattern(c, method);
  const action = `${method} ${pattern ?? "(no route)"}`;
  if (!MUTATIONS.has(method) && !REVEALS.has(action)) return;
  // Only the top-level `id` is taken from the body, in memory; the body itself is never stored.
  const copy = (c.res.headers.get("content-type") ?? "").includes("application/json") ? c.res.clone() : null;
  const params = pattern ? pathParams(pattern, c.req.path) : [];
  const base = {
    at: Date.now(),
    actor_key_id: auth.keyId,
    actor_channel_id: auth.channelId,
    action,
    status,
    ip: clip(c.req.header("cf-connecting-ip"), 64),
    user_agent: clip(c.req.header("user-agent"), 256),
    request_id: clip(c.get("requestId"), 64),
  };
  const write = async () => {
    try {
      let resourceId: string | null = null;
      if (copy) {
        try {
          const body = (await copy.json()) as { id?: unknown } | null;
          if (body && typeof body.id === "string" && ID_SHAPE.test(body.id)) resourceId = body.id;
        } catch {
          /* not JSON after all */
        }
      }
      resourceId ??= [...params].reverse().find((p) => ID_SHAPE.test(p)) ?? null;
      await insertAudit(c.env.DB, { id: newId("aud", base.at), ...base, resource_id: resourceId });
    } catch (err) {
      console.error(
        JSON.stringify({
          level: "error",
          what: "audit_write_failed",
          request_id: base.request_id,
          error: err instanceof Error ? err.name : "unknown",
        }),
      );
    }
  };
  let ctx: ExecutionContext | null = null;
  try {
    ctx = c.executionCtx;
  } catch {
    /* no execution context (app.request in a unit test) */
  }
  if (ctx) ctx.waitUntil(write());
  else await write();
});

/**
 * Audits a code reveal on a public route (checkout status, the hosted order page), which the middleware does
 * not see: who (the key, or none), the order, from where. Never the codes. Written after the response.
 */
export function auditPublicReveal(
  c: Context<AppEnv>,
  e: { action: string; orderId: string; keyId: string | null; channelId: string; at?: number },
): void {
  c.executionCtx.waitUntil(
    insertAudit(c.env.DB, {
      id: newId("aud"),
      at: e.at ?? Date.now(),
      actor_key_id: e.keyId,
      actor_channel_id: e.channelId,
      action: e.action,
      resource_id: e.orderId,
      status: 200,
      ip: c.req.header("cf-connecting-ip")?.slice(0, 64) ?? null,
      user_agent: c.req.header("user-agent")?.slice(0, 256) ?? null,
      request_id: c.get("requestId"),
    }).catch(() => undefined),
  );
}
