/**
 * Optional HMAC request signing for partner keys created with `require_signature`. The
 * partner signs every request with a signing secret shown once at key creation (derived on
 * our side from the key id and the server's HMAC key, so nothing more is stored):
 *
 *   X-Signature: t=<unix seconds>,n=<nonce>,v1=<hex HMAC-SHA256(secret, canonical)>
 *   canonical = METHOD "\n" path?query "\n" t "\n" n "\n" hex(SHA-256(body))
 *
 * The timestamp must be within ±300 s and a nonce is accepted once (kept 10 minutes in the
 * key's AbuseGuard), so a captured request can be neither altered nor replayed.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../lib/context";
import { ApiError } from "../lib/errors";
import { abuseGuard } from "../objects/abuse-guard";
import { hex, timingSafeEqual } from "./primitives";
import { base64urlEncode, requireSecrets } from "./secrets";

export const SIGNATURE_WINDOW_S = 300;
const encoder = new TextEncoder();

async function hmac(keyBytes: Uint8Array, text: string): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", key, encoder.encode(text));
}

/** The signing secret of a key: shown once when the key is created. */
export async function signingSecret(env: Env, keyId: string): Promise<string> {
  return base64urlEncode(
    new Uint8Array(await hmac(requireSecrets(env).hmacKey, `voucher-edge/request-signing/v1:${keyId}`)),
  );
}

export async function canonicalRequest(
  method: string,
  pathAndQuery: string,
  t: string,
  n: string,
  body: ArrayBuffer,
): Promise<string> {
  return `${method.toUpperCase()}\n${pathAndQuery}\n${t}\n${n}\n${hex(await crypto.subtle.digest("SHA-256", body))}`;
}

export async function sign(secret: string, canonical: string): Promise<string> {
  return hex(await hmac(encoder.encode(secret), canonical));
}

const refuse = (message: string) => new ApiError(401, "invalid_signature", message);

export const requireSignature = createMiddleware<AppEnv>(async (c, next) => {
  const auth = c.get("auth");
  if (!auth?.limits?.requireSignature) return next();
  const header = c.req.header("x-signature") ?? "";
  const parts = Object.fromEntries(header.split(",").map((p) => p.trim().split("=", 2) as [string, string]));
  const { t, n, v1 } = parts as Record<string, string | undefined>;
  if (!t || !n || !v1 || !/^\d{1,12}$/.test(t) || !/^[\w-]{16,128}$/.test(n) || !/^[0-9a-f]{64}$/.test(v1)) {
    throw refuse("this key requires X-Signature: t=<unix>,n=<nonce>,v1=<hex hmac>");
  }
  const now = Date.now();
  if (Math.abs(now / 1000 - Number(t)) > SIGNATURE_WINDOW_S)
    throw refuse(`the signature timestamp is outside ±${SIGNATURE_WINDOW_S} s`);
  const url = new URL(c.req.url);
  const body = await c.req.raw.clone().arrayBuffer();
  const expected = await sign(
    await signingSecret(c.env, auth.keyId),
    await canonicalRequest(c.req.method, url.pathname + url.search, t, n, body),
  );
  if (!timingSafeEqual(expected, v1)) throw refuse("the signature does not match the request");
  if (!(await abuseGuard(c.env, `key:${auth.keyId}`).useNonce(n, now + 2 * SIGNATURE_WINDOW_S * 1000, now)))
    throw refuse("this nonce was already used");
  await next();
});
