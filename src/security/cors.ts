/**
 * CORS only for configured origins (`CORS_ORIGINS`, comma-separated, e.g. the merchant's shop
 * that embeds the redemption widget). Without it, browsers on other sites cannot call the API;
 * server-to-server partners are unaffected. Exact origin matches only: no wildcards.
 */
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../lib/context";

function allowedOrigins(env: Env): Set<string> {
  const raw = (env as unknown as Record<string, string | undefined>).CORS_ORIGINS ?? "";
  return new Set(
    raw
      .split(",")
      .map((o) => o.trim())
      .filter((o) => /^https?:\/\/[^/\s]+$/.test(o)),
  );
}

export const corsForConfiguredOrigins = createMiddleware<AppEnv>(async (c, next) =>
  cors({
    origin: (origin) => (allowedOrigins(c.env).has(origin) ? origin : null),
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
    exposeHeaders: ["X-Request-Id", "Retry-After", "Idempotent-Replayed"],
    maxAge: 600,
  })(c, next),
);
