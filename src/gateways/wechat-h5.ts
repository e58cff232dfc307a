/**
 * WeChat Pay H5 (`POST /v3/pay/transactions/h5`): the Worker creates the payment and answers its `h5_url`, which
 * the hosted buy page opens at the top level (WeChat Pay refuses frames). The request carries WeChat Pay v3's
 * `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,timestamp=…,serial_no=…`, the
 * signature being RSA-SHA256 of `POST\n<path>\n<timestamp>\n<nonce>\n<body>\n` with the merchant's private key
 * (WECHATPAY_MCH_PRIVATE_KEY, PEM PKCS#8; its certificate serial WECHATPAY_MCH_SERIAL). The answer is signed
 * like a notice (Wechatpay-* headers, the platform key) and is refused when it does not verify.
 */
import { base64ToBytes, rsaPrivateKey, rsaPublicKey, secret } from "./types";

export const WECHATPAY_API = "https://api.mch.weixin.qq.com";
const PATH = "/v3/pay/transactions/h5";
export const H5_SECRETS = ["WECHATPAY_MCH_ID", "WECHATPAY_APP_ID", "WECHATPAY_MCH_PRIVATE_KEY", "WECHATPAY_MCH_SERIAL"];

export interface H5Order {
  order_id: string;
  amount: number;
  currency: string;
  description: string;
  notify_url: string;
  return_url: string | null;
  payer_ip: string | null;
}

export type H5Result = { ok: true; pay_url: string } | { ok: false; message: string };

const b64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

export const h5Configured = (env: Env) => H5_SECRETS.every((name) => secret(env, name));

/** The Authorization header for one request (exported for the tests' fake, which checks it). */
export async function authorization(env: Env, method: string, path: string, body: string, now: number) {
  const timestamp = String(Math.floor(now / 1000));
  const nonce = crypto.randomUUID().replace(/-/g, "");
  const message = `${method}\n${path}\n${timestamp}\n${nonce}\n${body}\n`;
  const key = await rsaPrivateKey(secret(env, "WECHATPAY_MCH_PRIVATE_KEY")!);
  const signature = b64(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(message)));
  const fields = { mchid: secret(env, "WECHATPAY_MCH_ID"), nonce_str: nonce, signature, timestamp };
  const serial = secret(env, "WECHATPAY_MCH_SERIAL");
  return `WECHATPAY2-SHA256-RSA2048 ${Object.entries({ ...fields, serial_no: serial })
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}`;
}

async function answerVerifies(env: Env, res: Response, body: string): Promise<boolean> {
  const h = res.headers;
  const signature = base64ToBytes(h.get("wechatpay-signature") ?? "");
  const timestamp = h.get("wechatpay-timestamp") ?? "";
  if (!signature || !/^\d{1,12}$/.test(timestamp)) return false;
  try {
    const key = await rsaPublicKey(secret(env, "WECHATPAY_PLATFORM_PUBLIC_KEY")!);
    const message = `${timestamp}\n${h.get("wechatpay-nonce") ?? ""}\n${body}\n`;
    return await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, new TextEncoder().encode(message));
  } catch {
    return false;
  }
}

/** Creates the H5 payment; `redirect_url` brings the buyer back with our order id, as Alipay's return does. */
export async function createH5Payment(env: Env, order: H5Order): Promise<H5Result> {
  const body = JSON.stringify({
    appid: secret(env, "WECHATPAY_APP_ID"),
    mchid: secret(env, "WECHATPAY_MCH_ID"),
    description: order.description.slice(0, 127),
    out_trade_no: order.order_id,
    notify_url: order.notify_url,
    amount: { total: order.amount, currency: order.currency },
    scene_info: { payer_client_ip: order.payer_ip ?? "127.0.0.1", h5_info: { type: "Wap" } },
  });
  const base = (secret(env, "WECHATPAY_API_BASE") ?? WECHATPAY_API).replace(/\/+$/, "");
  let res: Response;
  try {
    res = await fetch(base + PATH, {
      method: "POST",
      headers: {
        authorization: await authorization(env, "POST", PATH, body, Date.now()),
        accept: "application/json",
        "content-type": "application/json",
        "user-agent": "voucher-edge",
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return { ok: false, message: "WeChat Pay did not answer" };
  }
  const text = await res.text();
  if (!res.ok) return { ok: false, message: `WeChat Pay refused the payment (${res.status})` };
  if (!(await answerVerifies(env, res, text))) return { ok: false, message: "WeChat Pay's answer is not signed" };
  let h5: unknown;
  try {
    h5 = (JSON.parse(text) as { h5_url?: unknown }).h5_url;
  } catch {
    h5 = null;
  }
  if (typeof h5 !== "string" || !/^https:\/\/[^\s]+$/.test(h5)) return { ok: false, message: "no h5_url" };
  if (!order.return_url) return { ok: true, pay_url: h5 };
  const back = `${order.return_url}${order.return_url.includes("?") ? "&" : "?"}out_trade_no=${order.order_id}`;
  return { ok: true, pay_url: `${h5}&redirect_url=${encodeURIComponent(back)}` };
}
