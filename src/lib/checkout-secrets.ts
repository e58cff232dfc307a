/**
 * What a checkout hands the buyer's browser, derived with the code HMAC key (domain-separated) so nothing
 * is stored: the order's client secret (the API's GET /v1/checkout/{id}), and the order token of the
 * hosted order page. The token is single-purpose (it opens that one order's page: status, timeline,
 * reveal) and expires; the page keeps it in the URL fragment, which no server or log ever sees.
 */

import { hex, timingSafeEqual } from "../security/primitives";
import { readSecrets } from "../security/secrets";
import { ApiError } from "./errors";

export const ORDER_TOKEN_TTL_MS = 30 * 86_400_000;

async function mac(env: Env, message: string): Promise<string> {
  const secrets = readSecrets(env);
  if (!secrets.ok) throw new ApiError(503, "misconfigured", secrets.problem);
  const key = await crypto.subtle.importKey("raw", secrets.secrets.hmacKey, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
}

export async function clientSecret(env: Env, orderId: string): Promise<string> {
  return `${orderId}_secret_${(await mac(env, `checkout-client-secret:${orderId}`)).slice(0, 40)}`;
}

/** `vot1.<order id>.<expiry, unix seconds>.<mac>` */
export async function orderToken(env: Env, orderId: string, now = Date.now()): Promise<string> {
  const expires = Math.floor((now + ORDER_TOKEN_TTL_MS) / 1000);
  return `vot1.${orderId}.${expires}.${(await mac(env, `order-token:v1:${orderId}:${expires}`)).slice(0, 40)}`;
}

export const ORDER_TOKEN = /^vot1\.(ord_[a-z0-9]{1,40})\.(\d{1,12})\.([0-9a-f]{40})$/;

/** The order a token opens, or null when it is malformed, forged or expired. */
export async function readOrderToken(env: Env, token: string, now = Date.now()): Promise<string | null> {
  const match = ORDER_TOKEN.exec(token);
  if (!match) return null;
  const [, orderId, expires, given] = match;
  const expected = (await mac(env, `order-token:v1:${orderId}:${expires}`)).slice(0, 40);
  if (!timingSafeEqual(given, expected)) return null;
  return Number(expires) * 1000 > now ? orderId : null;
}

export const holdTtlMs = (env: Env) => {
  const raw = Number((env as unknown as Record<string, unknown>).CHECKOUT_HOLD_SECONDS ?? 900);
  return (Number.isFinite(raw) && raw >= 1 && raw <= 86_400 ? Math.floor(raw) : 900) * 1000;
};
