/**
 * GET /v1/live: a WebSocket that tells the console when its numbers changed (src/objects/live-hub.ts).
 * Authenticated like every /v1 call (the console's session cookie, or a bearer key from a server), scoped to
 * the caller's subtree. A browser must come from this Worker's own origin: a WebSocket is not bound by CORS,
 * so without that check any site could open one with the user's cookie (cross-site WebSocket hijacking).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../lib/context";
import { ApiError } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { liveHub } from "../objects/live-hub";
import { requireScope } from "../security/auth";
import { commonErrors, json } from "./schemas";

export const liveApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

liveApp.openapi(
  createRoute({
    method: "get",
    path: "/live",
    tags: ["Analytics"],
    summary: "Live updates for the cockpit (WebSocket): a versioned 'changed' message, never a number",
    description:
      'Upgrade with `Upgrade: websocket`. Messages are JSON `{"v":1,"type":"hello"|"changed","topics":[…],"at":"…"}`; ' +
      "on `changed`, re-read GET /v1/analytics. Send `ping` to get `pong`.",
    request: { headers: z.object({ upgrade: z.string().optional() }) },
    responses: {
      101: { description: "Switching protocols: the socket is open" },
      ...commonErrors,
      426: json(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), "Not a WebSocket upgrade"),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket")
      throw new ApiError(426, "upgrade_required", "open this URL as a WebSocket (Upgrade: websocket)");
    const origin = c.req.header("origin");
    if (origin && origin !== new URL(c.req.url).origin)
      throw new ApiError(403, "forbidden_origin", "live updates are only for the console on this origin");
    const headers = new Headers(c.req.raw.headers);
    headers.set("x-ve-scope-path", auth.path);
    return liveHub(c.env).fetch(c.req.url, { headers });
  },
);
