/**
 * Alipay asynchronous notifications (异步通知): form-encoded POST, RSA2 signature
 * (SHA256withRSA, base64) over the parameters sorted by name as `k=v` joined by `&`,
 * without `sign`, `sign_type` and empty values, verified with ALIPAY_PUBLIC_KEY (PEM SPKI).
 * Fields used: notify_id, out_trade_no (our order id), trade_no, total_amount (yuan, exact),
 * trade_status (TRADE_SUCCESS / TRADE_FINISHED pay; TRADE_CLOSED or refund_fee is a refund).
 * Answer: the plain text `success`, or Alipay retries over about 25 hours.
 */
import { newId } from "../domain/ids";
import { ALIPAY_GATEWAY, wapPayUrl } from "./alipay-pay-url";
import {
  base64ToBytes,
  decimalToMinor,
  type GatewayAdapter,
  minorToDecimal,
  rsaPublicKey,
  secret,
  type VerifiedNotice,
} from "./types";

/** The string Alipay signs for a notice. */
export function alipaySignContent(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== "sign" && k !== "sign_type" && params[k] !== "")
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join("&");
}

export const alipayGateway: GatewayAdapter = {
  name: "alipay",
  secrets: ["ALIPAY_PUBLIC_KEY", "ALIPAY_APP_ID"],
  async createPayment(order, env) {
    // With the app's private key set, the Worker signs the phone cashier's URL itself (the hosted buy page
    // opens it at the top level); without it, the merchant's server signs a pay request with these fields.
    const privateKeyPem = secret(env, "ALIPAY_APP_PRIVATE_KEY");
    if (privateKeyPem) {
      const { pay_url } = await wapPayUrl({
        appId: secret(env, "ALIPAY_APP_ID")!,
        privateKeyPem,
        gatewayUrl: secret(env, "ALIPAY_GATEWAY_URL") ?? ALIPAY_GATEWAY,
        orderId: order.order_id,
        amount: order.amount,
        subject: order.description,
        notifyUrl: order.notify_url,
        returnUrl: order.return_url,
        now: Date.now(),
      });
      return { pay_url, method: "alipay.trade.wap.pay" };
    }
    return {
      biz_content: {
        out_trade_no: order.order_id,
        total_amount: minorToDecimal(order.amount),
        subject: order.description,
        product_code: "FAST_INSTANT_TRADE_PAY",
      },
      return_url: order.return_url,
    };
  },
  async verifyNotification(raw, env) {
    const form = new URLSearchParams(raw.body);
    const params: Record<string, string> = {};
    for (const [k, v] of form) {
      if (k in params || k.length > 64 || v.length > 4000)
        return { ok: false, reason: "malformed", message: "not an Alipay notice" };
      params[k] = v;
    }
    const signature = params.sign ? base64ToBytes(params.sign) : null;
    if (!signature) return { ok: false, reason: "signature", message: "missing sign" };
    if (params.sign_type && params.sign_type !== "RSA2")
      return { ok: false, reason: "signature", message: "only RSA2 notices are accepted" };
    let valid = false;
    try {
      const key = await rsaPublicKey(secret(env, "ALIPAY_PUBLIC_KEY")!);
      valid = await crypto.subtle.verify(
        "RSASSA-PKCS1-v1_5",
        key,
        signature,
        new TextEncoder().encode(alipaySignContent(params)),
      );
    } catch {
      valid = false;
    }
    if (!valid) return { ok: false, reason: "signature", message: "signature does not match" };
    if (!params.notify_id) return { ok: false, reason: "malformed", message: "notify_id missing" };
    // Alipay signs every merchant's notices with the same platform key: a notice for another app (a trade the
    // sender opened in their own account with our order id) verifies too, so the app (and seller) must be ours.
    if (params.app_id !== secret(env, "ALIPAY_APP_ID"))
      return { ok: false, reason: "signature", message: "the notice is for another Alipay app" };
    const seller = secret(env, "ALIPAY_SELLER_ID");
    if (seller && params.seller_id !== seller)
      return { ok: false, reason: "signature", message: "the notice is for another Alipay seller" };
    const amount = params.total_amount !== undefined ? decimalToMinor(params.total_amount) : null;
    const status = params.trade_status;
    const refunded = status === "TRADE_CLOSED" || params.refund_fee !== undefined;
    const kind = refunded ? "refunded" : status === "TRADE_SUCCESS" || status === "TRADE_FINISHED" ? "paid" : "other";
    const notice: VerifiedNotice = {
      gateway: "alipay",
      notice_id: params.notify_id,
      kind,
      order_id: params.out_trade_no ?? null,
      payment_id: params.trade_no ?? null,
      amount: kind === "refunded" && params.refund_fee !== undefined ? decimalToMinor(params.refund_fee) : amount,
      currency: (params.currency ?? "CNY").toUpperCase(),
    };
    return { ok: true, notice };
  },
  ack: () => ({ status: 200, body: "success", contentType: "text/plain" }),
  refund: () => ({ gateway_refund_id: newId("rfd") }),
};
