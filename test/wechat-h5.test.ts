/**
 * WeChat Pay H5 created by the Worker (src/gateways/wechat-h5.ts) against the tests' fake of WeChat's endpoint
 * (test/servers/wechatpay-fake.ts: it checks our signed Authorization and signs its answers with the platform key).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callEnv, notify, ORIGIN, publishableKey, wechatNotice } from "./gateway-counterparts/fixtures";
import { productWithCodes } from "./helpers";

const E = env as unknown as Record<string, any>;
let ipSeq = 0;
const payerIp = () => `203.0.113.${++ipSeq}`;

const fake = (path: string, body?: unknown) =>
  fetch(`${E.WEBHOOK_TEST_RECEIVER}${path}`, body ? { method: "POST", body: JSON.stringify(body) } : {});

async function wechatCheckout(pk: string, productId: string, ip: string, key: string) {
  return callEnv("POST", "/v1/checkout", {
    token: pk,
    headers: { origin: ORIGIN, "cf-connecting-ip": ip, "idempotency-key": key },
    body: { items: [{ product_id: productId, quantity: 1 }], gateway: "wechat", return_url: "https://ve.test/order/" },
  });
}

describe("WeChat Pay H5", () => {
  it("creates the payment with a signed request and answers h5_url, back to the order page", async () => {
    const product = await productWithCodes(2, { price: 2500 });
    const pk = await publishableKey();
    const ip = payerIp();
    const res = await wechatCheckout(pk, product.id, ip, `wx-${Date.now()}`);
    expect(res.status).toBe(201);
    const url = new URL(res.json.payment.pay_url);
    expect(url.origin + url.pathname).toBe("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb");
    expect(url.searchParams.get("prepay_id")).toMatch(/^wx[0-9a-f]{24}$/);
    expect(url.searchParams.get("redirect_url")).toBe(`https://ve.test/order/?out_trade_no=${res.json.order_id}`);
    const { requests } = (await (await fake("/_wechat/requests")).json()) as { requests: any[] };
    expect(requests.find((r) => r.out_trade_no === res.json.order_id)).toEqual({
      appid: E.WECHATPAY_APP_ID,
      mchid: E.WECHATPAY_MCH_ID,
      description: `Order ${res.json.order_id}`,
      out_trade_no: res.json.order_id,
      notify_url: "http://ve.test/v1/public/payments/wechat/notify",
      amount: { total: 2500, currency: "CNY" },
      scene_info: { payer_client_ip: ip, h5_info: { type: "Wap" } },
    });
    for (const secret of [res.json.client_secret, res.json.order_token]) expect(url.toString()).not.toContain(secret);
  });

  it("answers 502 when WeChat Pay fails or its answer is unsigned, and a retry of the same key pays the same order", async () => {
    const product = await productWithCodes(1, { price: 990 });
    const pk = await publishableKey();
    const ip = payerIp();
    await fake("/_wechat/control", { ip, fail_next: 1, unsigned_next: 1 });
    const key = `wx-retry-${Date.now()}`;
    const failed = await wechatCheckout(pk, product.id, ip, key);
    expect(failed.status).toBe(502);
    expect(failed.json.error.code).toBe("gateway_unavailable");
    const unsigned = await wechatCheckout(pk, product.id, ip, key);
    expect(unsigned.status).toBe(502);
    expect(unsigned.json.error.message).toMatch(/not signed/);
    const retried = await wechatCheckout(pk, product.id, ip, key);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("idempotent-replayed")).toBe("true"); // the one code stayed held for this order
    expect(retried.json.payment.pay_url).toMatch(/^https:\/\/wx\.tenpay\.com\//);
  });

  it("a replay after payment answers the paid order without asking WeChat Pay again", async () => {
    const product = await productWithCodes(1, { price: 1200 });
    const pk = await publishableKey();
    const ip = payerIp();
    const key = `wx-paid-${Date.now()}`;
    const first = await wechatCheckout(pk, product.id, ip, key);
    expect(first.status).toBe(201);
    const co = first.json;
    const n = await wechatNotice({
      mchid: E.WECHATPAY_MCH_ID,
      appid: E.WECHATPAY_APP_ID,
      out_trade_no: co.order_id,
      transaction_id: `42000000${Date.now()}`,
      trade_type: "MWEB",
      trade_state: "SUCCESS",
      success_time: new Date().toISOString(),
      amount: { total: co.amount, payer_total: co.amount, currency: "CNY", payer_currency: "CNY" },
    });
    expect((await notify("wechat", n.body, n.headers)).status).toBe(200);
    // The fake would refuse a second create for a paid order; the replay must not send one.
    await fake("/_wechat/control", { ip, fail_next: 1 });
    const replay = await wechatCheckout(pk, product.id, ip, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json).toMatchObject({ order_id: co.order_id, status: "fulfilled" });
    expect(replay.json.payment.pay_url).toBeUndefined();
    const { requests } = (await (await fake("/_wechat/requests")).json()) as { requests: any[] };
    expect(requests.filter((r) => r.out_trade_no === co.order_id)).toHaveLength(1);
    await fake("/_wechat/control", { ip, fail_next: 0 });
  });

  it("a request signed with another key is refused by WeChat Pay (the fake checks the signature)", async () => {
    const product = await productWithCodes(1, { price: 100 });
    const pk = await publishableKey();
    const res = await callEnv("POST", "/v1/checkout", {
      token: pk,
      headers: { origin: ORIGIN, "cf-connecting-ip": payerIp(), "idempotency-key": `wx-bad-${Date.now()}` },
      body: { items: [{ product_id: product.id, quantity: 1 }], gateway: "wechat" },
      env: { WECHATPAY_MCH_PRIVATE_KEY: E.TEST_WECHATPAY_PRIVATE_KEY }, // the platform's key, not the merchant's
    });
    expect(res.status).toBe(502);
    expect(res.json.error.message).toMatch(/refused the payment \(401\)/);
  });
});
