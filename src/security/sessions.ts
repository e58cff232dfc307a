/**
 * Console users and sessions: PBKDF2-SHA256 password hashes, roles mapped to API scopes (scopes.ts),
 * and the session cookie (an HS256 JWT naming a D1 `sessions` row) with its CSRF check.
 * SESSION_SECRET is optional: without it the session routes answer 503, nothing else changes.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { jwtVerify, SignJWT } from "jose";
import { sessionAuthRow } from "../db/sessions";
import { ROOT_PATH } from "../domain/channels";
import { ROOT_CHANNEL_ID } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { ApiError } from "../lib/errors";
import type { Auth } from "./auth";
import { sha256Hex, timingSafeEqual, timingSafeEqualBytes } from "./primitives";
import { ROLES, type Role, roleScopes } from "./scopes";
import { base64urlDecode, base64urlEncode } from "./secrets";

export const SESSION_COOKIE = "ve_session";
export const SESSION_TTL_MS = 30 * 60_000;
export const MAX_FAILED_LOGINS = 5;
export const LOCK_MS = 15 * 60_000;
/** workerd caps PBKDF2 at 100,000 iterations; scripts/setup.mjs writes the same format with Node. */
export const PBKDF2_ITERATIONS = 100_000;
const JWT_ISSUER = "voucher-edge";
const JWT_AUDIENCE = "voucher-edge-console";

// ---- passwords ----

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256),
  );
}

/** `pbkdf2-sha256$100000$<salt b64url>$<hash b64url>` with a random 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2(password, salt, PBKDF2_ITERATIONS);
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${base64urlEncode(salt)}$${base64urlEncode(hash)}`;
}

let dummyHash: Promise<string> | null = null;

/**
 * Checks a password in constant time. With no stored hash (unknown email) it still spends the
 * same PBKDF2 time against a dummy hash, so the answer time does not tell whether the email exists.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  dummyHash ??= hashPassword("dummy password for unknown emails");
  const parts = (stored ?? (await dummyHash)).split("$");
  const iterations = Number(parts[1]);
  const salt = base64urlDecode(parts[2] ?? "");
  const expected = base64urlDecode(parts[3] ?? "");
  const valid =
    parts.length === 4 &&
    parts[0] === "pbkdf2-sha256" &&
    iterations === PBKDF2_ITERATIONS &&
    !!salt &&
    salt.length > 0 &&
    !!expected &&
    expected.length === 32;
  const actual = await pbkdf2(password, valid ? salt! : new Uint8Array(16), PBKDF2_ITERATIONS);
  return valid && stored !== null && timingSafeEqualBytes(actual, expected!);
}

// ---- the session key and tokens ----

let keyCache: { source: unknown; key: Promise<Uint8Array | null> } | null = null;

/** HKDF-SHA256 of SESSION_SECRET (base64url, 32 bytes) into the JWT key; null when the secret is missing or malformed. */
export function sessionKey(env: Env): Promise<Uint8Array | null> {
  if (keyCache && keyCache.source === env) return keyCache.key;
  const raw = (env as unknown as Record<string, unknown>).SESSION_SECRET;
  const secret = typeof raw === "string" ? base64urlDecode(raw.trim()) : null;
  const key = (async () => {
    if (secret?.length !== 32) return null;
    const master = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new Uint8Array(0),
        info: new TextEncoder().encode("voucher-edge session jwt v1"),
      },
      master,
      256,
    );
    return new Uint8Array(bits);
  })();
  keyCache = { source: env, key };
  return key;
}

export async function requireSessionKey(env: Env): Promise<Uint8Array> {
  const key = await sessionKey(env);
  if (!key)
    throw new ApiError(
      503,
      "misconfigured",
      "console sessions are unavailable: secret SESSION_SECRET is missing or not base64url of 32 random bytes",
    );
  return key;
}

export async function signSession(
  key: Uint8Array,
  sessionId: string,
  userId: string,
  expiresAt: number,
): Promise<string> {
  return new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt / 1000))
    .sign(key);
}

export const newCsrfToken = () => base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));

// ---- authenticating a request by its cookie ----

export interface SessionInfo {
  sessionId: string;
  userId: string;
  role: Role;
}

const sessionOfAuth = new WeakMap<Auth, SessionInfo>();

/** The console session behind an Auth, if the request came with a session cookie. */
export function sessionOf(auth: Auth): SessionInfo | undefined {
  return sessionOfAuth.get(auth);
}

export function hasSessionCookie(c: Context<AppEnv>): boolean {
  return !!getCookie(c, SESSION_COOKIE);
}

const MUTATIONS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const invalidSession = () =>
  new ApiError(401, "unauthorized", "the session is unknown, revoked or expired; log in again");

/** Auth from the `ve_session` cookie: a valid JWT, a live session row, an active user, and for mutations the CSRF token. */
export async function sessionAuth(c: Context<AppEnv>): Promise<Auth> {
  const token = getCookie(c, SESSION_COOKIE) ?? "";
  const key = await requireSessionKey(c.env);
  let sid: unknown;
  let sub: unknown;
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
    sid = payload.sid;
    sub = payload.sub;
  } catch {
    throw invalidSession();
  }
  if (typeof sid !== "string" || typeof sub !== "string") throw invalidSession();
  const now = Date.now();
  const row = await sessionAuthRow(c.env.DB, sid);
  if (
    !row ||
    row.user_id !== sub ||
    row.revoked_at !== null ||
    row.expires_at <= now ||
    row.status !== "active" ||
    !row.path
  )
    throw invalidSession();
  if (!(ROLES as readonly string[]).includes(row.role)) throw invalidSession();
  if (MUTATIONS.has(c.req.method.toUpperCase())) {
    const csrf = c.req.header("x-csrf-token") ?? "";
    const given = csrf ? await sha256Hex(csrf) : "";
    if (!csrf || csrf.length > 200 || !timingSafeEqual(given, row.csrf_hash)) {
      throw new ApiError(
        403,
        "csrf_failed",
        "a session request that changes something needs the header X-CSRF-Token from the login response",
      );
    }
  }
  const channelId = row.channel_id ?? ROOT_CHANNEL_ID;
  const auth: Auth = {
    channelId,
    path: row.path ?? ROOT_PATH,
    keyId: `session:${row.id}`,
    scopes: new Set<string>(roleScopes(row.role)),
    root: channelId === ROOT_CHANNEL_ID,
  };
  sessionOfAuth.set(auth, { sessionId: row.id, userId: row.user_id, role: row.role as Role });
  return auth;
}

/**
 * Who may manage console users: the owner's ADMIN_TOKEN (acts as an owner) or a session of an
 * owner or admin. API keys never may, whatever their scopes. Returns the acting role.
 */
export function requireUserAdmin(auth: Auth): "owner" | "admin" {
  if (auth.keyId === "admin_token") return "owner";
  const role = sessionOf(auth)?.role;
  if (role === "owner" || role === "admin") return role;
  throw new ApiError(403, "forbidden", "only owners and admins (or the ADMIN_TOKEN) manage console users");
}
