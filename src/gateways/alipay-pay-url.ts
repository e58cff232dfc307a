/**
 * The signed URL that opens Alipay's phone cashier (手机网站支付, `alipay.trade.wap.pay`), built in the
 * Worker so the hosted buy page can pay without the merchant's server. Request signing (OpenAPI 2.0, RSA2):
 * every parameter but `sign` (sign_type included), sorted by name, `k=v` joined by `&`, signed SHA256withRSA
 * with the app's private key (ALIPAY_APP_PRIVATE_KEY, PEM PKCS#8), base64. The timestamp is Beijing time, as
 * Alipay requires. gateways.test.ts checks the result against alipay-sdk's own signer.
 */
import { minorToDecimal, rsaPrivateKey } from "./types";

export const ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do";
/** Alipay closes an unpaid wap trade this long after it opens at the latest; our hold expires first. */
const PAY_TIMEOUT = "30m";

export interface WapPayInput {
  appId: string;
  privateKeyPem: string;
  gatewayUrl: string;
  orderId: string;
  amount: number;
  subject: string;
  notifyUrl: string;
  returnUrl: string | null;
  now: number;
}

/** "yyyy-MM-dd HH:mm:ss" in UTC+8 (China has one time zone and no daylight saving). */
export function beijingTimestamp(now: number): string {
  return new Date(now + 8 * 3600_000).toISOString().slice(0, 19).replace("T", " ");
}

/** The string Alipay's gateway verifies for a request: not the notice rule (sign_type is signed here). */
export function alipayRequestSignContent(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== "sign" && params[k] !== "")
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join("&");
}

/** The signed parameters, and the URL a browser opens at the top level to pay. */
export async function wapPayUrl(input: WapPayInput): Promise<{ pay_url: string; params: Record<string, string> }> {
  const params: Record<string, string> = {
    app_id: input.appId,
    method: "alipay.trade.wap.pay",
    charset: "utf-8",
    sign_type: "RSA2",
    timestamp: beijingTimestamp(input.now),
    version: "1.0",
    notify_url: input.notifyUrl,
    ...(input.returnUrl ? { return_url: input.returnUrl } : {}),
    biz_content: JSON.stringify({
      out_trade_no: input.orderId,
      total_amount: minorToDecimal(input.amount),
      subject: input.subject,
      product_code: "QUICK_WAP_WAY",
      timeout_express: PAY_TIMEOUT,
    }),
  };
  const signature = await crypto.subtle.sign(
    "RSASSA-PKCS1-v1_5",
    await rsaPrivateKey(input.privateKeyPem),
    new TextEncoder().encode(alipayRequestSignContent(params)),
  );
  params.sign = btoa(String.fromCharCode(...new Uint8Array(signature)));
  // Percent-encoded as alipay-sdk does (never `+` for a space, which some decoders keep).
  const query = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join("&");
  return { pay_url: `${input.gatewayUrl}?${query}`, params };
}
