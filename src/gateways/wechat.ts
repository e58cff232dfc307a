/**
 * WeChat Pay API v3 notifications: headers Wechatpay-Timestamp, -Nonce, -Signature, -Serial;
 * the signature is RSA-SHA256 (PKCS#1 v1.5, base64) of `${timestamp}\n${nonce}\n${body}\n`, checked
 * with WECHATPAY_PLATFORM_PUBLIC_KEY (the platform certificate's or WeChat Pay public key, PEM SPKI);
 * timestamps older or newer than 300 s are refused. The `resource` is AES-256-GCM with
 * WECHATPAY_API_V3_KEY (32 characters), nonce and associated_data given, ciphertext base64 with the
 * 16-byte tag appended. Answer: 200 {"code":"SUCCESS"}.
 */
import { newId } from "../domain/ids";
import { ApiError } from "../lib/errors";
import { base64ToBytes, type GatewayAdapter, rsaPublicKey, secret, type VerifiedNotice } from "./types";
import { createH5Payment, h5Configured } from "./wechat-h5";

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" && v.length <= 200 ? v : null);

export async function decryptWechatResource(
  apiV3Key: string,
  resource: { ciphertext: string; nonce: string; associated_data?: string },
): Promise<string | null> {
  const data = base64ToBytes(resource.ciphertext);
  const keyBytes = new TextEncoder().encode(apiV3Key);
  if (!data || data.length < 17 || keyBytes.length !== 32) return null;
  try {
    const key = await crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["decrypt"]);
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: new TextEncoder().encode(resource.nonce),
        additionalData: new TextEncoder().encode(resource.associated_data ?? ""),
        tagLength: 128,
      },
      key,
      data,
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

export const wechatGateway: GatewayAdapter = {
  name: "wechat",
  secrets: ["WECHATPAY_PLATFORM_PUBLIC_KEY", "WECHATPAY_API_V3_KEY"],
  async createPayment(order, env) {
    // With the merchant's key set, the Worker creates the H5 payment itself (the hosted buy page opens h5_url at
    // the top level); otherwise the merchant's server calls /v3/pay/transactions/native (or jsapi/h5) with these.
    if (h5Configured(env)) {
      const made = await createH5Payment(env, order);
      // The hold stays; a retry with the same Idempotency-Key asks WeChat Pay again (out_trade_no is the order).
      if (!made.ok) throw new ApiError(502, "gateway_unavailable", made.message);
      return { pay_url: made.pay_url, method: "h5" };
    }
    return {
      out_trade_no: order.order_id,
      description: order.description,
      amount: { total: order.amount, currency: order.currency },
    };
  },
  async verifyNotification(raw, env, now) {
    const h = raw.headers;
    const timestamp = h.get("wechatpay-timestamp") ?? "";
    const nonce = h.get("wechatpay-nonce") ?? "";
    const signature = base64ToBytes(h.get("wechatpay-signature") ?? "");
    if (!/^\d{1,12}$/.test(timestamp) || !nonce || nonce.length > 64 || !signature || !h.get("wechatpay-serial"))
      return { ok: false, reason: "signature", message: "missing Wechatpay-* headers" };
    let valid = false;
    try {
      const key = await rsaPublicKey(secret(env, "WECHATPAY_PLATFORM_PUBLIC_KEY")!);
      valid = await crypto.subtle.verify(
        "RSASSA-PKCS1-v1_5",
        key,
        signature,
        new TextEncoder().encode(`${timestamp}\n${nonce}\n${raw.body}\n`),
      );
    } catch {
      valid = false;
    }
    if (!valid) return { ok: false, reason: "signature", message: "signature does not match" };
    if (Math.abs(Math.floor(now / 1000) - Number(timestamp)) > 300)
      return { ok: false, reason: "stale", message: "timestamp outside the tolerance" };
    let event: Obj;
    try {
      event = JSON.parse(raw.body);
    } catch {
      return { ok: false, reason: "malformed", message: "not a WeChat Pay notice" };
    }
    const resource = event?.resource as Obj | undefined;
    const id = str(event?.id);
    if (!id || !resource || typeof resource.ciphertext !== "string" || typeof resource.nonce !== "string")
      return { ok: false, reason: "malformed", message: "not a WeChat Pay notice" };
    const plain = await decryptWechatResource(
      secret(env, "WECHATPAY_API_V3_KEY")!,
      resource as { ciphertext: string; nonce: string; associated_data?: string },
    );
    if (plain === null)
      return { ok: false, reason: "signature", message: "resource does not decrypt with the API v3 key" };
    let tx: Obj;
    try {
      tx = JSON.parse(plain);
    } catch {
      return { ok: false, reason: "malformed", message: "resource is not JSON" };
    }
    const amount = (tx.amount ?? {}) as Obj;
    const total =
      typeof amount.total === "number" && Number.isSafeInteger(amount.total) && amount.total >= 0 ? amount.total : null;
    const refund = event.event_type === "REFUND.SUCCESS";
    const paid = event.event_type === "TRANSACTION.SUCCESS" && tx.trade_state === "SUCCESS";
    const notice: VerifiedNotice = {
      gateway: "wechat",
      notice_id: id,
      kind: paid ? "paid" : refund ? "refunded" : "other",
      order_id: str(tx.out_trade_no),
      payment_id: str(tx.transaction_id),
      amount: refund && typeof amount.refund === "number" ? amount.refund : total,
      currency: typeof amount.currency === "string" && /^[A-Z]{3}$/.test(amount.currency) ? amount.currency : null,
    };
    return { ok: true, notice };
  },
  ack: () => ({ status: 200, body: JSON.stringify({ code: "SUCCESS" }), contentType: "application/json" }),
  refund: () => ({ gateway_refund_id: newId("rfd") }),
};
