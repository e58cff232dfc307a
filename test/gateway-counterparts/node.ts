/**
 * Gateway counterparts for the tests, run in Node (vitest.config.ts) and reached from the Workers
 * test runtime through a service binding (`env.GATEWAY_COUNTERPARTS`): the real SDKs sign the notices
 * our endpoints must accept. alipay-sdk pulls in urllib (Node HTTP), which does not load in workerd, so it runs
 * here; the stripe SDK loads in workerd too but only signs asynchronously there (gateways.test.ts checks both).
 *   POST /stripe/sign    {payload}            → {header}  (stripe.webhooks.generateTestHeaderString)
 *   POST /alipay/sign    {params}             → {params}  (signed as Alipay does, accepted by alipay-sdk checkNotifySignV2)
 *   POST /alipay/check   {params}             → {ok}      (alipay-sdk's verdict on any notice)
 *   POST /alipay/gateway {url}                → {ok, sdk_ok, sdk_fields, params}: a pay URL checked as Alipay's
 *        gateway checks it (RSA2 with the app's public key), beside alipay-sdk's own URL for the same order
 */
import { createSign, createVerify, generateKeyPairSync } from "node:crypto";
import { AlipaySdk } from "alipay-sdk";
import Stripe from "stripe";

export const STRIPE_WEBHOOK_SECRET = "whsec_test_0123456789abcdef0123456789abcdef";
export const WECHATPAY_API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ01"; // 32 bytes, as WeChat Pay requires

const pair = () =>
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });

export function gatewayCounterparts() {
  const alipay = pair(); // Alipay's own key pair: it signs notices, we hold the public key
  const app = pair(); // the merchant app's key pair (alipay-sdk requires one)
  const wechat = pair(); // WeChat Pay platform key pair
  const merchant = pair(); // the WeChat Pay merchant's API key pair (signs our H5 order requests)
  const stripe = new Stripe("sk_test_counterpart");
  const alipaySdk = new AlipaySdk({
    appId: "2021000000000000",
    privateKey: app.privateKey,
    alipayPublicKey: alipay.publicKey,
    keyType: "PKCS8",
  });

  const signAlipay = (params: Record<string, string>) => {
    const content = Object.keys(params)
      .filter((k) => k !== "sign" && k !== "sign_type" && params[k] !== "")
      .sort()
      .map((k) => `${k}=${params[k]}`)
      .join("&");
    const sign = createSign("RSA-SHA256").update(content, "utf8").sign(alipay.privateKey, "base64");
    const signed = { ...params, sign_type: "RSA2", sign };
    if (!alipaySdk.checkNotifySignV2(signed)) throw new Error("alipay-sdk refuses the notice we signed");
    return signed;
  };

  // Alipay's gateway side of a request: every parameter but sign, sorted, `k=v` by `&`, RSA2 with the app's key.
  const gatewayAccepts = (params: Record<string, string>) => {
    const content = Object.keys(params)
      .filter((k) => k !== "sign")
      .sort()
      .map((k) => `${k}=${params[k]}`)
      .join("&");
    return createVerify("RSA-SHA256")
      .update(content, "utf8")
      .verify(app.publicKey, params.sign ?? "", "base64");
  };
  const checkPayUrl = (url: string) => {
    const params = Object.fromEntries(new URL(url).searchParams);
    // alipay-sdk's URL for the same order and second: its fields must be ours (plus its own alipay_sdk tag).
    const sdkUrl = alipaySdk.pageExecute(params.method, "GET", {
      bizContent: JSON.parse(params.biz_content ?? "{}"),
      notifyUrl: params.notify_url,
      ...(params.return_url ? { returnUrl: params.return_url } : {}),
      timestamp: params.timestamp,
    });
    const sdk = Object.fromEntries(new URL(sdkUrl).searchParams);
    const { alipay_sdk: _tag, ...sdkFields } = sdk;
    return { ok: gatewayAccepts(params), sdk_ok: gatewayAccepts(sdk), sdk_fields: sdkFields, params };
  };

  const handler = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    const body = (await request.json()) as Record<string, any>;
    if (path === "/stripe/sign") {
      const header = stripe.webhooks.generateTestHeaderString({
        payload: body.payload,
        secret: STRIPE_WEBHOOK_SECRET,
        ...(body.timestamp ? { timestamp: body.timestamp } : {}),
      });
      if (!body.timestamp) stripe.webhooks.constructEvent(body.payload, header, STRIPE_WEBHOOK_SECRET); // the SDK accepts its own header
      return Response.json({ header });
    }
    if (path === "/alipay/sign") return Response.json({ params: signAlipay(body.params) });
    if (path === "/alipay/gateway") return Response.json(checkPayUrl(body.url));
    if (path === "/alipay/check") return Response.json({ ok: alipaySdk.checkNotifySignV2(body.params) });
    return new Response("not found", { status: 404 });
  };

  return {
    handler,
    bindings: {
      SANDBOX_GATEWAY_SECRET: "sandbox-test-secret-0123456789abcdef",
      STRIPE_WEBHOOK_SECRET,
      ALIPAY_PUBLIC_KEY: alipay.publicKey,
      ALIPAY_APP_ID: "2021000000000000",
      ALIPAY_APP_PRIVATE_KEY: app.privateKey,
      WECHATPAY_PLATFORM_PUBLIC_KEY: wechat.publicKey,
      WECHATPAY_API_V3_KEY,
      TEST_WECHATPAY_PRIVATE_KEY: wechat.privateKey,
      WECHATPAY_MCH_ID: "1900000109",
      WECHATPAY_APP_ID: "wxd678efh567hg6787",
      WECHATPAY_MCH_PRIVATE_KEY: merchant.privateKey,
      WECHATPAY_MCH_SERIAL: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
    },
    /** For the fake WeChat Pay H5 endpoint (test/servers/wechatpay-fake.ts). */
    wechatFake: {
      mchId: "1900000109",
      merchantPublicKey: merchant.publicKey,
      platformPrivateKey: wechat.privateKey,
      platformSerial: "7132D72A03E93CDDF8C03BBD1F37EEDF43BA3E6A",
    },
  };
}
