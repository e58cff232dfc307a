/**
 * Console log-in: POST /v1/sessions (public, rate-limited per IP, 5 failures lock an email for
 * 15 minutes), GET and DELETE /v1/sessions/current. The session is an HttpOnly cookie holding an
 * HS256 JWT; the CSRF token comes back once in the JSON body and is stored as SHA-256 only.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { deleteCookie, setCookie } from "hono/cookie";
import { insertSession, revokeSession, sessionWithUser } from "../db/sessions";
import { clearLoginFailures, countLoginAttempt, getUser, getUserByEmail, lockUser } from "../db/users";
import { newId } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { ApiError, notFound } from "../lib/errors";
import { publicSecurity } from "../lib/public-routes";
import { validationHook } from "../lib/validation";
import { abuseGuard } from "../objects/abuse-guard";
import { sha256Hex } from "../security/primitives";
import { loginRateLimit } from "../security/rate-limit";
import {
  LOCK_MS,
  MAX_FAILED_LOGINS,
  newCsrfToken,
  requireSessionKey,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionOf,
  signSession,
  verifyPassword,
} from "../security/sessions";
import { commonErrors, json, jsonBody } from "./schemas";
import { UserSchema, userView } from "./users";

export const sessionsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Sessions"];

sessionsApp.use("/sessions", async (c, next) => (c.req.method === "POST" ? loginRateLimit(c, next) : next()));

const Login = z
  .object({ email: z.string().trim().toLowerCase().max(254), password: z.string().min(1).max(256) })
  .strict()
  .openapi("Login");

const SessionSchema = z
  .object({
    id: z.string(),
    object: z.literal("session"),
    expires_at: z.string(),
    csrf_token: z.string().optional().openapi({
      description: "Send as X-CSRF-Token on every POST/PUT/PATCH/DELETE of this session; shown once, at log-in",
    }),
    revoked_at: z.string().nullable().optional(),
    user: UserSchema,
  })
  .openapi("Session");

const clip = (v: string | undefined, max: number) => (v ? v.slice(0, max) : null);
const iso = (ms: number) => new Date(ms).toISOString();
const invalidCredentials = () => new ApiError(401, "invalid_credentials", "the email or the password is wrong");

sessionsApp.openapi(
  createRoute({
    method: "post",
    path: "/sessions",
    tags,
    summary: "Log in to the console (sets the ve_session cookie)",
    security: publicSecurity("POST /v1/sessions"),
    request: { body: jsonBody(Login) },
    responses: {
      201: json(SessionSchema, "Logged in; the cookie is set"),
      ...commonErrors,
      503: json(z.object({}).passthrough(), "SESSION_SECRET is not configured"),
    },
  }),
  async (c) => {
    const key = await requireSessionKey(c.env);
    const { email, password } = c.req.valid("json");
    const now = Date.now();
    const user = await getUserByEmail(c.env.DB, email);
    if (user) {
      // Count the attempt before checking it, so parallel guesses cannot exceed the budget.
      const counted = await countLoginAttempt(c.env.DB, user.id, now, MAX_FAILED_LOGINS);
      if (!counted) {
        const retry =
          user.locked_until && user.locked_until > now
            ? Math.ceil((user.locked_until - now) / 1000)
            : Math.ceil(LOCK_MS / 1000);
        throw new ApiError(
          429,
          "too_many_failures",
          "too many failed log-ins for this account; try again later",
          undefined,
          { "Retry-After": String(retry) },
        );
      }
      const ok = await verifyPassword(password, user.password_hash);
      if (!ok || user.status !== "active") {
        if (!ok && counted.failed_logins >= MAX_FAILED_LOGINS) {
          await lockUser(c.env.DB, user.id, now + LOCK_MS);
        }
        throw invalidCredentials();
      }
      await clearLoginFailures(c.env.DB, user.id);
    } else {
      // Unknown emails are budgeted and locked exactly like known ones, so the lockout does not reveal which emails exist.
      const guard = abuseGuard(c.env, "login:unknown-emails");
      const subject = `email:${await sha256Hex(email)}`;
      const state = await guard.check([subject], now);
      if (state.locked) {
        throw new ApiError(
          429,
          "too_many_failures",
          "too many failed log-ins for this account; try again later",
          undefined,
          { "Retry-After": String(Math.ceil((state.until - now) / 1000)) },
        );
      }
      await verifyPassword(password, null); // the same PBKDF2 time as for a known email
      await guard.fail(
        [{ id: subject, budget: { failures: MAX_FAILED_LOGINS, windowMs: 86_400_000, lockMs: LOCK_MS } }],
        now,
      );
      throw invalidCredentials();
    }
    const sessionId = newId("ses", now);
    const expiresAt = now + SESSION_TTL_MS;
    const csrf = newCsrfToken();
    await insertSession(c.env.DB, {
      id: sessionId,
      userId: user.id,
      createdAt: now,
      expiresAt,
      csrfHash: await sha256Hex(csrf),
      ip: clip(c.req.header("cf-connecting-ip"), 64),
      userAgent: clip(c.req.header("user-agent"), 256),
    });
    const jwt = await signSession(key, sessionId, user.id, expiresAt);
    setCookie(c, SESSION_COOKIE, jwt, {
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
      path: "/",
      maxAge: SESSION_TTL_MS / 1000,
    });
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        id: sessionId,
        object: "session" as const,
        expires_at: iso(expiresAt),
        csrf_token: csrf,
        user: userView({ ...user, failed_logins: 0, locked_until: null }),
      },
      201,
    );
  },
);

async function currentSession(c: { env: Env; get: (k: "auth") => import("../security/auth").Auth }) {
  await requireSessionKey(c.env);
  const info = sessionOf(c.get("auth"));
  if (!info) throw notFound("session", "no_session");
  const row = await sessionWithUser(c.env.DB, info.sessionId);
  if (!row) throw notFound("session", "no_session");
  return { info, row };
}

sessionsApp.openapi(
  createRoute({
    method: "get",
    path: "/sessions/current",
    tags,
    summary: "The current console session and its user",
    responses: { 200: json(SessionSchema, "The session"), ...commonErrors },
  }),
  async (c) => {
    const { info, row } = await currentSession(c);
    const user = await getUser(c.env.DB, info.userId);
    if (!user) throw notFound("session", "no_session");
    return c.json(
      {
        id: info.sessionId,
        object: "session" as const,
        expires_at: iso(row.expires_at),
        revoked_at: null,
        user: userView(user),
      },
      200,
    );
  },
);

sessionsApp.openapi(
  createRoute({
    method: "delete",
    path: "/sessions/current",
    tags,
    summary: "Log out: revoke the current session",
    responses: { 200: json(SessionSchema, "Revoked"), ...commonErrors },
  }),
  async (c) => {
    const { info, row } = await currentSession(c);
    const now = Date.now();
    await revokeSession(c.env.DB, info.sessionId, now);
    const user = await getUser(c.env.DB, info.userId);
    if (!user) throw notFound("session", "no_session");
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
    return c.json(
      {
        id: info.sessionId,
        object: "session" as const,
        expires_at: iso(row.expires_at),
        revoked_at: iso(now),
        user: userView(user),
      },
      200,
    );
  },
);
