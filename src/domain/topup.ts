/**
 * Direct top-up (直充), pure parts: the recipient account's rules, the provider protocol's
 * shapes, how a provider answer is classified, and the retry schedule. No I/O here; the
 * adapter (providers/topup-provider.ts) and the saga (objects/channel-topup.ts) use these.
 */
import type { OrderLineSpec } from "./orders";

/** A recipient account: a phone number, game uid, email… printable, no control or invisible characters. */
export const ACCOUNT_MAX = 64;
// Letters, digits, punctuation, symbols; inner single ASCII spaces allowed ("uid 12345"), never at the ends.
const ACCOUNT_RE = /^[\p{L}\p{N}\p{P}\p{S}](?:[\p{L}\p{N}\p{P}\p{S} ]*[\p{L}\p{N}\p{P}\p{S}])?$/u;

export function validAccount(account: string): boolean {
  return account.length >= 1 && account.length <= ACCOUNT_MAX && ACCOUNT_RE.test(account) && !/ {2}/.test(account);
}

/** Support sees only the last 4 characters. */
export function maskAccount(account: string): string {
  const chars = [...account];
  return chars.length <= 4 ? "*".repeat(chars.length) : "*".repeat(chars.length - 4) + chars.slice(-4).join("");
}

/** What a top-up line carries besides the usual line fields. */
export interface TopupLine {
  account: string;
  /** The provider's product code: product metadata `provider_sku`, else the product id. */
  sku: string;
  /** Face value to recharge (minor units), sent as `amount` when the product has one. */
  face_value: number | null;
}

export const isTopupOrder = (lines: Pick<OrderLineSpec, "topup">[]) => lines.some((l) => l.topup);

/** The provider's idempotency key for one line of one order. */
export const outTradeNo = (orderId: string, line: number) => `${orderId}-${line}`;
export function parseOutTradeNo(value: string): { orderId: string; line: number } | null {
  const m = /^(ord_[a-z0-9]{1,40})-(\d{1,2})$/.exec(value);
  return m ? { orderId: m[1], line: Number(m[2]) } : null;
}

/** POST {provider}/topups body. */
export interface ProviderRequest {
  out_trade_no: string;
  sku: string;
  account: string;
  amount?: number;
  currency?: string;
  notify_url?: string;
}

export type ProviderStatus = "succeeded" | "failed" | "pending" | "not_found";

/** A signed provider answer (reply to submit / status query, or a notice). */
export interface ProviderReply {
  out_trade_no: string;
  status: ProviderStatus;
  provider_ref?: string | null;
  error?: string | null;
}

export function parseReply(value: unknown): ProviderReply | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if (
    typeof v.out_trade_no !== "string" ||
    !["succeeded", "failed", "pending", "not_found"].includes(v.status as string)
  )
    return null;
  const text = (x: unknown) => (typeof x === "string" ? x.slice(0, 200) : null);
  return {
    out_trade_no: v.out_trade_no,
    status: v.status as ProviderStatus,
    provider_ref: text(v.provider_ref),
    error: text(v.error),
  };
}

/** The result of one call to the provider, as the saga sees it. */
export type Outcome =
  | { kind: "succeeded"; provider_ref: string | null }
  | { kind: "failed"; provider_ref: string | null; reason: string }
  | { kind: "retry"; error: string }
  /** A status query found no such top-up: it was never received, so submitting it is safe. */
  | { kind: "unknown" };

/**
 * Classifies an HTTP answer. Only a signed reply about the same out_trade_no is trusted; anything
 * else (5xx, unsigned, garbled, timeouts) is transient: we retry and ask again later.
 */
export function classify(httpStatus: number, reply: ProviderReply | null, expected: string, signed: boolean): Outcome {
  if (!signed) return { kind: "retry", error: `provider answer ${httpStatus} without a valid signature` };
  if (!reply || reply.out_trade_no !== expected)
    return { kind: "retry", error: `provider answer ${httpStatus} not understood` };
  switch (reply.status) {
    case "succeeded":
      return { kind: "succeeded", provider_ref: reply.provider_ref ?? null };
    case "failed":
      return { kind: "failed", provider_ref: reply.provider_ref ?? null, reason: reply.error || "provider_declined" };
    case "not_found":
      return { kind: "unknown" };
    default:
      return { kind: "retry", error: "pending at the provider" };
  }
}

/** Seconds before attempt n+1 (n ≥ 1): about 1 h in all over 8 retries, times a scale (0 in tests). */
const BACKOFF = [10, 30, 60, 120, 300, 600, 900, 1800];
export function retryDelaySeconds(attempts: number, scale: number): number {
  const base = BACKOFF[Math.min(Math.max(attempts, 1), BACKOFF.length) - 1];
  return Math.max(0, Math.min(43_200, Math.round(base * (Number.isFinite(scale) && scale >= 0 ? scale : 1))));
}

/** The string both sides sign: `${timestamp}.${body}` (body is "" for a status query). */
export const signingInput = (timestamp: string, body: string) => `${timestamp}.${body}`;
/** Signed messages older or newer than this are refused (replay window). */
export const SIGNATURE_TOLERANCE_S = 300;
export function timestampFresh(timestamp: string, nowMs: number): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(Number(timestamp) - Math.floor(nowMs / 1000)) <= SIGNATURE_TOLERANCE_S;
}

/** The top-up as `GET /v1/orders/{id}` shows it. */
export interface TopupView {
  status: "processing" | "succeeded" | "failed";
  account: string;
  provider_ref: string | null;
  attempts: number;
  last_error: string | null;
}
