/**
 * One interface for every payment gateway. Adapters never reach the network: creating a
 * payment returns what the front end (or the merchant's server) needs to start it, a refund
 * is recorded locally for finance to execute, and notices are verified from the raw request.
 */
import { hex, timingSafeEqual } from "../security/primitives";

export const GATEWAYS = ["sandbox", "stripe", "alipay", "wechat"] as const;
export type GatewayName = (typeof GATEWAYS)[number];

/** What an adapter needs to know about an order. */
export interface PaymentOrder {
  order_id: string;
  payment_id: string;
  amount: number;
  currency: string;
  description: string;
  return_url: string | null;
  /** Where the gateway posts its notice: this Worker's `/v1/public/payments/{gateway}/notify`. */
  notify_url: string;
  /** The buyer's IP (WeChat Pay H5 requires it). */
  payer_ip: string | null;
}

/** A verified notice, reduced to what the ChannelAccount decides on. */
export interface VerifiedNotice {
  gateway: GatewayName;
  /** The gateway's id of this notice (event id / notify_id); repeats of one notice share it. */
  notice_id: string;
  /** paid: money taken; refunded: the gateway gave money back; other: verified but nothing for us. */
  kind: "paid" | "refunded" | "other";
  order_id: string | null;
  /** The gateway's reference of the payment (payment intent, trade_no, transaction_id). */
  payment_id: string | null;
  amount: number | null;
  currency: string | null;
}

export type NoticeVerdict =
  | { ok: true; notice: VerifiedNotice }
  /** signature: not from the gateway (401); stale: outside the timestamp tolerance (401); malformed: not the gateway's format (400). */
  | { ok: false; reason: "signature" | "stale" | "malformed"; message: string };

export interface RawNotice {
  headers: Headers;
  body: string;
}

export interface Ack {
  status: number;
  body: string;
  contentType: string;
}

export interface GatewayRefund {
  /** Our record of the refund request at the gateway (executed by finance or a later integration). */
  gateway_refund_id: string;
}

export interface GatewayAdapter {
  name: GatewayName;
  /** The secrets this gateway needs, in the order they are checked. */
  secrets: readonly string[];
  createPayment(order: PaymentOrder, env: Env): Promise<Record<string, unknown>>;
  verifyNotification(raw: RawNotice, env: Env, now: number): Promise<NoticeVerdict>;
  /** The answer the gateway expects when we took the notice (it retries otherwise). */
  ack(): Ack;
  refund(
    order: { order_id: string; payment_id: string | null; amount: number; currency: string },
    env: Env,
  ): GatewayRefund;
}

export function secret(env: Env, name: string): string | null {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

export async function hmacSha256Hex(key: string, message: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return hex(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(message)));
}

/** Parses `t=…,v1=…[,v1=…]` (Stripe's and our sandbox's signature header). */
export function parseTimestampedHeader(header: string | null): { t: number; v1: string[] } | null {
  if (!header || header.length > 2000) return null;
  let t = NaN;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const [k, v] = part.split("=", 2).map((s) => s?.trim());
    if (k === "t" && /^\d{1,12}$/.test(v ?? "")) t = Number(v);
    if (k === "v1" && /^[0-9a-f]{64}$/.test(v ?? "")) v1.push(v!);
  }
  return Number.isFinite(t) && v1.length > 0 ? { t, v1 } : null;
}

/** Verifies a `t=…,v1=…` header: HMAC-SHA256(secret, `${t}.${body}`), |now − t| ≤ tolerance. */
export async function verifyTimestamped(
  header: string | null,
  body: string,
  key: string,
  now: number,
  toleranceSec = 300,
): Promise<NoticeVerdict | null> {
  const parsed = parseTimestampedHeader(header);
  if (!parsed) return { ok: false, reason: "signature", message: "missing or malformed signature header" };
  const expected = await hmacSha256Hex(key, `${parsed.t}.${body}`);
  if (!parsed.v1.some((v) => timingSafeEqual(v, expected)))
    return { ok: false, reason: "signature", message: "signature does not match" };
  if (Math.abs(Math.floor(now / 1000) - parsed.t) > toleranceSec)
    return { ok: false, reason: "stale", message: "timestamp outside the tolerance" };
  return null;
}

export function pemToDer(pem: string): Uint8Array | null {
  const m = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(pem.replace(/\\n/g, "\n"));
  const b64 = (m ? m[1] : pem).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return null;
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

const keyCache = new Map<string, Promise<CryptoKey>>();
/** An RSA public key (PEM SPKI, or its bare base64) for RSASSA-PKCS1-v1_5 / SHA-256 verification. */
export function rsaPublicKey(pem: string): Promise<CryptoKey> {
  let key = keyCache.get(pem);
  if (!key) {
    const der = pemToDer(pem);
    key = der
      ? crypto.subtle.importKey("spki", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"])
      : Promise.reject(new Error("bad key"));
    keyCache.set(pem, key);
    key.catch(() => keyCache.delete(pem));
  }
  return key;
}

const privateKeys = new Map<string, Promise<CryptoKey>>();
/** A merchant's RSA private key (PEM PKCS#8, `\n` escapes allowed) for RSASSA-PKCS1-v1_5 / SHA-256 signing. */
export function rsaPrivateKey(pem: string): Promise<CryptoKey> {
  let key = privateKeys.get(pem);
  if (!key) {
    const b64 = pem
      .replace(/\\n/g, "\n")
      .replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "")
      .replace(/\s+/g, "");
    const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    key = crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    privateKeys.set(pem, key);
    key.catch(() => privateKeys.delete(pem));
  }
  return key;
}

export function base64ToBytes(b64: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** "12.34" (yuan) → 1234 fen, exactly; null when not a plain decimal with at most 2 places. */
export function decimalToMinor(text: string): number | null {
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}

/** 1234 → "12.34". */
export const minorToDecimal = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
