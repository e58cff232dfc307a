/**
 * Publishable keys (`pk_…`): a channel's key for browsers, good only for the checkout endpoints
 * and only from the origins listed on it. Stored as SHA-256 in D1 `publishable_keys`.
 *
 * Origin rule: a request that carries `Origin` must list it exactly (or be this Worker's own, the hosted pages); a request without `Origin`
 * (a server, curl) is allowed, since a non-browser client can send any Origin it likes and the
 * check protects against other sites embedding the key, which browsers always label with Origin.
 * Responses to an allowed origin carry CORS headers for it.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import {
  anyKeyAllowsOrigin,
  insertPublishableKey,
  livePublishableKeyByHash,
  revokePublishableKeyRow,
} from "../db/keys";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import { KEY_FRESH_MS } from "../security/auth";
import { sha256Hex } from "../security/primitives";
import { RefreshingCache } from "../security/refreshing-cache";
import { base64urlEncode } from "../security/secrets";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

export const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;

type PublishableAuth = { keyId: string; channelId: string; path: string; root: boolean; origins: string[] };
/** Same freshness as API keys: a revocation elsewhere lands within about 1 s (security/refreshing-cache.ts). */
const cache = new RefreshingCache<PublishableAuth | null>(KEY_FRESH_MS, 30_000);

export async function createPublishableKey(db: D1Database, channelId: string, name: string | null, origins: string[]) {
  const secret = `pk_${base64urlEncode(crypto.getRandomValues(new Uint8Array(24)))}`;
  const row = {
    id: newId("key"),
    channel_id: channelId,
    name,
    prefix: secret.slice(0, 11),
    allowed_origins: [...new Set(origins)],
    created_at: Date.now(),
  };
  await insertPublishableKey(
    db,
    {
      id: row.id,
      channelId,
      name,
      prefix: row.prefix,
      allowedOrigins: JSON.stringify(row.allowed_origins),
      createdAt: row.created_at,
    },
    await sha256Hex(secret),
  );
  return { ...row, secret };
}

export async function revokePublishableKey(db: D1Database, channelId: string, keyId: string): Promise<boolean> {
  const revoked = await revokePublishableKeyRow(db, channelId, keyId, Date.now());
  cache.clear();
  return revoked;
}

/** The live key's channel and allowed origins, or null (unknown or revoked); cached like API keys. */
export async function lookup(env: Env, token: string, now: number, waitUntil: (p: Promise<unknown>) => void) {
  const hash = await sha256Hex(token);
  return cache.get(hash, now, () => load(env, hash), waitUntil);
}

async function load(env: Env, hash: string): Promise<PublishableAuth | null> {
  const row = await livePublishableKeyByHash(env.DB, hash);
  const auth = row
    ? {
        keyId: row.id,
        channelId: row.channel_id,
        path: row.path,
        root: row.channel_id === ROOT_CHANNEL_ID,
        origins: JSON.parse(row.allowed_origins) as string[],
      }
    : null;
  return auth;
}

function corsHeaders(c: Context<AppEnv>, origin: string): void {
  c.header("Access-Control-Allow-Origin", origin);
  c.header("Vary", "Origin");
  c.header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Idempotent-Replayed");
}

/** Answers CORS preflights of the checkout routes for origins that some live publishable key allows. */
export const checkoutPreflight = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("origin");
  if (c.req.method !== "OPTIONS" || !origin) return next();
  const allowed = ORIGIN.test(origin) && (await anyKeyAllowsOrigin(c.env.DB, origin));
  if (!allowed) return c.body(null, 204);
  corsHeaders(c, origin);
  c.header("Access-Control-Allow-Methods", "GET, POST");
  c.header("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
  c.header("Access-Control-Max-Age", "600");
  return c.body(null, 204);
});

/** Authenticates a publishable key and checks the Origin; sets `auth` (no scopes) for the checkout routes. */
export const requirePublishableKey = createMiddleware<AppEnv>(async (c, next) => {
  const match = /^Bearer\s+(pk_[A-Za-z0-9_-]{10,60})$/i.exec(c.req.header("authorization") ?? "");
  if (!match)
    throw new ApiError(401, "unauthorized", "send 'Authorization: Bearer <publishable key pk_…>'", undefined, {
      "WWW-Authenticate": "Bearer",
    });
  const auth = await lookup(c.env, match[1], Date.now(), (p) => c.executionCtx.waitUntil(p));
  if (!auth)
    throw new ApiError(401, "unauthorized", "the publishable key is unknown or revoked", undefined, {
      "WWW-Authenticate": "Bearer",
    });
  const origin = c.req.header("origin");
  // The hosted pages (/pk/…) are served by this Worker: its own origin may always use a key.
  const own = origin === new URL(c.req.url).origin;
  if (origin !== undefined && !own && !auth.origins.includes(origin))
    throw new ApiError(403, "origin_not_allowed", "this publishable key does not allow the request's Origin");
  if (origin && !own) corsHeaders(c, origin);
  c.set("auth", { channelId: auth.channelId, path: auth.path, keyId: auth.keyId, scopes: new Set(), root: auth.root });
  await next();
});
