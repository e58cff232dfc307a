/**
 * Verifies a Voucher Edge webhook on the receiving side (any runtime with WebCrypto: Node 20+, Workers,
 * Deno, browsers). The header is `Voucher-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, where
 * v1 = HMAC-SHA256(key = the whole whsec_… secret, message = t + "." + the raw body). Check the raw bytes
 * you received, before parsing the JSON. Several v1 values appear while a secret is being rotated.
 *
 *   const ok = await verifyWebhook(secret, rawBody, req.headers.get("voucher-signature") ?? "");
 *   if (!ok.ok) return new Response(ok.reason, { status: 400 });
 */
export const SIGNATURE_HEADER = "Voucher-Signature";
export const DEFAULT_TOLERANCE_S = 300;

export type WebhookVerification =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "malformed" | "timestamp_out_of_tolerance" | "mismatch" };

const encoder = new TextEncoder();

/** Compares in time independent of where the strings differ (the server side uses workerd's own). */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function verifyWebhook(
  secret: string,
  rawBody: string,
  header: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): Promise<WebhookVerification> {
  let t: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const [k, v] = [part.slice(0, part.indexOf("=")).trim(), part.slice(part.indexOf("=") + 1).trim()];
    if (k === "t" && /^\d{1,12}$/.test(v)) t = Number(v);
    if (k === "v1" && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (t === null || v1.length === 0) return { ok: false, reason: "malformed" };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_S))
    return { ok: false, reason: "timestamp_out_of_tolerance" };
  const expected = await hmacSha256Hex(secret, `${t}.${rawBody}`);
  return v1.some((v) => constantTimeEqual(v, expected))
    ? { ok: true, timestamp: t }
    : { ok: false, reason: "mismatch" };
}
