/**
 * Webhook signatures (pure, WebCrypto only): `Voucher-Signature: t=<unix seconds>,v1=<hex>` where
 * v1 = HMAC-SHA256(key = the whole `whsec_…` secret as UTF-8, message = t + "." + raw body).
 * The timestamp is signed with the body so a captured delivery cannot be replayed later
 * than the receiver's tolerance (±300 s in the documented verifier).
 */
import { hex, timingSafeEqual } from "../security/primitives";

export const SIGNATURE_HEADER = "Voucher-Signature";
export const DEFAULT_TOLERANCE_S = 300;

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/** The header value for a body sent at `timestampS` (unix seconds). */
export async function signPayload(secret: string, body: string, timestampS: number): Promise<string> {
  const t = Math.floor(timestampS);
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

/** Parses `t=…,v1=…[,v1=…]` (several v1 values are allowed, e.g. during a secret rotation). */
export function parseSignature(header: string): { t: number; v1: string[] } | null {
  let t: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === "t" && /^\d{1,12}$/.test(v)) t = Number(v);
    if (k === "v1" && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  return t === null || v1.length === 0 ? null : { t, v1 };
}

export type VerifyResult =
  | { ok: true; t: number }
  | { ok: false; reason: "malformed" | "timestamp_out_of_tolerance" | "mismatch" };

/** Verifies a received body; `nowS` and `toleranceS` are parameters so the check stays pure. */
export async function verifyPayload(
  secret: string,
  body: string,
  header: string,
  nowS: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): Promise<VerifyResult> {
  const parsed = parseSignature(header);
  if (!parsed) return { ok: false, reason: "malformed" };
  if (Math.abs(nowS - parsed.t) > toleranceS) return { ok: false, reason: "timestamp_out_of_tolerance" };
  const expected = await hmacHex(secret, `${parsed.t}.${body}`);
  return parsed.v1.some((v) => timingSafeEqual(v, expected))
    ? { ok: true, t: parsed.t }
    : { ok: false, reason: "mismatch" };
}
