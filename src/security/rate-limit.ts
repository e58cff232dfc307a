/**
 * Edge rate limits with the Workers rate-limit binding. The binding is approximate by
 * design: it sheds abuse; exact budgets (quotas, failure budgets) live in Durable Objects.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../lib/context";
import { ApiError } from "../lib/errors";
import { abuseGuard } from "../objects/abuse-guard";

const tooMany = (period: number) =>
  new ApiError(429, "rate_limited", "too many requests; slow down", undefined, { "Retry-After": String(period) });

/** Unauthenticated endpoints (the consumer widget): budget per client IP. */
export const publicRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const ip = c.req.header("cf-connecting-ip") ?? "local";
  if (!(await c.env.PUBLIC_LIMITER.limit({ key: `ip:${ip}` })).success) throw tooMany(60);
  await next();
});

/** Public routes that take a publishable key: they authenticate before the per-IP limit, like checkout. */
export const isKeyedPublicPath = (path: string) => /^\/v1\/public\/campaigns\//.test(path);

/** Signed callbacks: payment gateway notices and the top-up provider's results. */
export const isCallbackPath = (path: string) => /^\/v1\/public\/(payments\/[^/]+|topup)\/notify$/.test(path);

/**
 * Callbacks come from a few addresses of each gateway, so a per-IP budget would throttle a busy
 * shop's payments (and the gateway would retry for hours). They get a budget per callback URL
 * (that is, per gateway) on the API limiter instead; nothing changes before the signature verifies.
 */
export const callbackRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  if (!(await c.env.API_LIMITER.limit({ key: `callback:${c.req.path}` })).success) throw tooMany(60);
  await next();
});

/** Console log-in: its own per-IP budget, so password guessing and code guessing do not share one. */
export const loginRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const ip = c.req.header("cf-connecting-ip") ?? "local";
  if (!(await c.env.LOGIN_LIMITER.limit({ key: `login:${ip}` })).success) throw tooMany(60);
  await next();
});

/**
 * Authenticated API: budget per API key, so one partner's busy server neither starves
 * others behind the same IP nor gets locked out by them: the binding's default, or the key's
 * own `rate_limit_per_minute`. The owner's bootstrap token (automation, first set-up) is not limited.
 */
export const apiRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const auth = c.get("auth");
  const custom = auth.limits?.ratePerMinute;
  if (custom) {
    // A key with its own limit is counted exactly, in its AbuseGuard.
    const taken = await abuseGuard(c.env, `key:${auth.keyId}`).take(`rate:${auth.keyId}`, custom, 60_000);
    if (!taken.ok) throw tooMany(Math.ceil(taken.retryAfterMs / 1000));
  } else if (auth.keyId !== "admin_token" && !(await c.env.API_LIMITER.limit({ key: `key:${auth.keyId}` })).success) {
    throw tooMany(60);
  }
  await next();
});
