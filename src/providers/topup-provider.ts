/**
 * Adapter to the upstream top-up provider (docs/topup.md has the protocol):
 *   POST {url}/topups            JSON ProviderRequest, idempotent by out_trade_no
 *   GET  {url}/topups/{out_trade_no}   status query (signed over an empty body)
 * Every request and every reply is signed: X-Provider-Timestamp: <unix s>,
 * X-Provider-Signature: hex(HMAC-SHA256(secret, timestamp + "." + body)). A reply whose
 * signature does not verify is treated as no answer at all (retry), never as a result.
 */
import {
  classify,
  type Outcome,
  type ProviderReply,
  type ProviderRequest,
  parseReply,
  signingInput,
  timestampFresh,
} from "../domain/topup";
import { timingSafeEqual } from "../security/primitives";
import { sign } from "../security/signing";

/** Optional settings: top-ups are the only feature that needs them (503 misconfigured otherwise). */
export type TopupEnv = Env & {
  TOPUP_PROVIDER_URL?: string;
  TOPUP_PROVIDER_SECRET?: string;
  TOPUP_NOTIFY_URL?: string;
  TOPUP_RETRY_DELAY_SCALE?: string;
};

export interface ProviderConfig {
  url: string;
  secret: string;
  notifyUrl: string | null;
  timeoutMs: number;
}

export type ConfigResult = { ok: true; config: ProviderConfig } | { ok: false; missing: string };

export function providerConfig(env: Env): ConfigResult {
  const e = env as TopupEnv;
  const url = (e.TOPUP_PROVIDER_URL ?? "").replace(/\/+$/, "");
  if (!/^https?:\/\/[^\s]+$/.test(url)) return { ok: false, missing: "TOPUP_PROVIDER_URL" };
  if (!e.TOPUP_PROVIDER_SECRET || e.TOPUP_PROVIDER_SECRET.length < 16)
    return { ok: false, missing: "TOPUP_PROVIDER_SECRET" };
  const notify = e.TOPUP_NOTIFY_URL && /^https?:\/\/\S+$/.test(e.TOPUP_NOTIFY_URL) ? e.TOPUP_NOTIFY_URL : null;
  return { ok: true, config: { url, secret: e.TOPUP_PROVIDER_SECRET, notifyUrl: notify, timeoutMs: 10_000 } };
}

export function retryScale(env: Env): number {
  const raw = Number((env as TopupEnv).TOPUP_RETRY_DELAY_SCALE ?? "1");
  return Number.isFinite(raw) && raw >= 0 ? raw : 1;
}

export async function signedHeaders(secret: string, body: string, now = Date.now()): Promise<Record<string, string>> {
  const ts = String(Math.floor(now / 1000));
  return { "x-provider-timestamp": ts, "x-provider-signature": await sign(secret, signingInput(ts, body)) };
}

/** Checks a message signed by the other side (reply or notice): fresh timestamp, matching HMAC. */
export async function verifySigned(
  secret: string,
  timestamp: string | null | undefined,
  signature: string | null | undefined,
  body: string,
  now = Date.now(),
): Promise<boolean> {
  if (!timestamp || !signature || !timestampFresh(timestamp, now) || !/^[0-9a-f]{64}$/.test(signature)) return false;
  return timingSafeEqual(await sign(secret, signingInput(timestamp, body)), signature);
}

async function exchange(
  cfg: ProviderConfig,
  method: "GET" | "POST",
  path: string,
  body: string,
  expected: string,
): Promise<Outcome> {
  let res: Response;
  try {
    res = await fetch(`${cfg.url}${path}`, {
      method,
      headers: {
        ...(await signedHeaders(cfg.secret, body)),
        ...(method === "POST" ? { "content-type": "application/json" } : {}),
      },
      body: method === "POST" ? body : undefined,
      signal: AbortSignal.timeout(cfg.timeoutMs),
    });
  } catch (err) {
    return {
      kind: "retry",
      error: err instanceof Error && err.name === "TimeoutError" ? "provider timed out" : "provider unreachable",
    };
  }
  const text = await res.text().catch(() => "");
  // A 5xx is transient whatever its body says; 2xx and 4xx answers count only when signed.
  if (res.status >= 500) return { kind: "retry", error: `provider answered ${res.status}` };
  const signed = await verifySigned(
    cfg.secret,
    res.headers.get("x-provider-timestamp"),
    res.headers.get("x-provider-signature"),
    text,
  );
  let reply: ProviderReply | null = null;
  try {
    reply = parseReply(JSON.parse(text));
  } catch {
    /* not JSON */
  }
  return classify(res.status, reply, expected, signed);
}

/** Asks the provider to recharge; safe to repeat (the provider dedupes by out_trade_no). */
export function submitTopup(cfg: ProviderConfig, request: ProviderRequest): Promise<Outcome> {
  const body = JSON.stringify({ ...request, ...(cfg.notifyUrl ? { notify_url: cfg.notifyUrl } : {}) });
  return exchange(cfg, "POST", "/topups", body, request.out_trade_no);
}

/** Asks where an earlier submission stands, without charging again. */
export function queryTopup(cfg: ProviderConfig, outTradeNo: string): Promise<Outcome> {
  return exchange(cfg, "GET", `/topups/${encodeURIComponent(outTradeNo)}`, "", outTradeNo);
}
