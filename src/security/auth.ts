/**
 * Bearer authentication: the owner bootstrap token (ADMIN_TOKEN, a root key with every
 * scope) or an API key `vek_…` looked up by its SHA-256 in D1. Keys are cached per isolate so a
 * hot partner does not read D1 on every call (security/refreshing-cache.ts): a key revoked in another
 * isolate stops working here within about KEY_FRESH_MS plus one D1 read, with no D1 round trip on the
 * request path; an isolate idle for KEY_CACHE_MS reads D1 before answering.
 */
import { createMiddleware } from "hono/factory";
import { apiKeyByHash, touchApiKey } from "../db/keys";
import { ROOT_PATH } from "../domain/channels";
import { ROOT_CHANNEL_ID } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { ApiError } from "../lib/errors";
import { sha256Hex, timingSafeEqual } from "./primitives";
import { RefreshingCache } from "./refreshing-cache";
import { SCOPES, type Scope } from "./scopes";
import { readSecrets } from "./secrets";
import { hasSessionCookie, sessionAuth } from "./sessions";

export interface Auth {
  channelId: string;
  /** Materialised path of the key's channel: everything it may see starts with it. */
  path: string;
  keyId: string;
  scopes: ReadonlySet<string>;
  root: boolean;
  /** Per-key options of an API key (absent for the owner's token and sessions). */
  limits?: KeyLimits;
}

export interface KeyLimits {
  ratePerMinute: number | null;
  revealsPerHour: number | null;
  requireSignature: boolean;
}

export const KEY_FRESH_MS = 1_000;
const KEY_CACHE_MS = 30_000;
type CachedKey = { auth: Auth | null; expiresAt: number | null };
const keyCache = new RefreshingCache<CachedKey>(KEY_FRESH_MS, KEY_CACHE_MS);

/**
 * The Auth of a bearer token, or null. `waitUntil` keeps a background re-read of a cached key alive
 * after the response (the request's ExecutionContext).
 */
export async function authenticate(
  env: Env,
  token: string,
  now: number,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Auth | null> {
  const secrets = readSecrets(env);
  if (secrets.ok && secrets.secrets.adminToken && timingSafeEqual(token, secrets.secrets.adminToken)) {
    return { channelId: ROOT_CHANNEL_ID, path: ROOT_PATH, keyId: "admin_token", scopes: new Set(SCOPES), root: true };
  }
  if (!token.startsWith("vek_") || token.length > 200) return null;
  const hash = await sha256Hex(token);
  const usable = (k: CachedKey) => k.expiresAt === null || k.expiresAt > now;
  const key = await keyCache.get(hash, now, () => loadKey(env, hash, now), waitUntil, usable);
  return key.auth;
}

/** Reads the key from D1 (and marks it used). */
async function loadKey(env: Env, hash: string, now: number): Promise<CachedKey> {
  const row = await apiKeyByHash(env.DB, hash);
  const valid = row && row.revoked_at === null && (row.expires_at === null || row.expires_at > now);
  const auth = valid
    ? {
        channelId: row.channel_id,
        path: row.path,
        keyId: row.id,
        scopes: new Set<string>(JSON.parse(row.scopes)),
        root: row.channel_id === ROOT_CHANNEL_ID,
        limits: {
          ratePerMinute: row.rate_limit_per_minute,
          revealsPerHour: row.reveal_limit_per_hour,
          requireSignature: row.require_signature === 1,
        },
      }
    : null;
  if (auth) await touchApiKey(env.DB, auth.keyId, now);
  return { auth, expiresAt: row?.expires_at ?? null };
}

/** Forget cached keys (after a revoke in this isolate). */
export function forgetKeys(): void {
  keyCache.clear();
}

export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  // No bearer token but a console session cookie: the session's role decides (CSRF-checked for mutations).
  if (!match && hasSessionCookie(c)) {
    c.set("auth", await sessionAuth(c));
    return next();
  }
  if (!match)
    throw new ApiError(401, "unauthorized", "send 'Authorization: Bearer <api key>'", undefined, {
      "WWW-Authenticate": "Bearer",
    });
  const auth = await authenticate(c.env, match[1], Date.now(), (p) => c.executionCtx.waitUntil(p));
  if (!auth)
    throw new ApiError(401, "unauthorized", "the API key is unknown, revoked or expired", undefined, {
      "WWW-Authenticate": "Bearer",
    });
  c.set("auth", auth);
  await next();
});

export function requireScope(auth: Auth, scope: Scope): void {
  if (!auth.scopes.has(scope)) throw new ApiError(403, "forbidden", `this key lacks the scope ${scope}`);
}

export function requireRoot(auth: Auth): void {
  if (!auth.root) throw new ApiError(403, "forbidden", "only the merchant's root channel may do this");
}
