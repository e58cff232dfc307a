/**
 * Stripe, Alipay and WeChat Pay notices against the real endpoints. Stripe's are signed by the stripe SDK,
 * Alipay's are signed as Alipay documents it and checked by alipay-sdk (both in Node, test/gateway-counterparts),
 * WeChat Pay's are encrypted and signed in the test exactly as WeChat Pay documents it.
 */
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { decimalToMinor } from "../src/gateways/types";
import {
  alipayNotice,
  alipaySdkAccepts,
  checkout,
  checkoutStatus,
  noticesOf,
  notify,
  paymentIntentSucceeded,
  publishableKey,
  stockOf,
  stripeNotice,
  wechatNotice,
} from "./gateway-counterparts/fixtures";
import { call, insideOneWindow, productWithCodes } from "./helpers";

async function pendingOrder(gateway: string, price = 1234, quantity = 1) {
  const product = await productWithCodes(3, { price });
  const pk = await publishableKey();
  const res = await checkout(pk, [{ product_id: product.id, quantity }], gateway);
  expect(res.status).toBe(201);
  return { product, pk, co: res.json };
}

describe("amounts", () => {
  it("yuan decimals become fen exactly, without floats", () => {
    expect(decimalToMinor("12.34")).toBe(1234);
    expect(decimalToMinor("0.1")).toBe(10);
    expect(decimalToMinor("0.29")).toBe(29); // 0.29 * 100 is 28.999999999999996 in floating point
    expect(decimalToMinor("1005.70")).toBe(100570);
    for (const bad of ["1.234", "-1.00", "1e3", "", " 1.00", "1.", ".5", "NaN"]) expect(decimalToMinor(bad)).toBeNull();
  });
});

describe("stripe", () => {
  it("a payment_intent.succeeded signed by the stripe SDK fulfils the order; its repeat is a duplicate", async () => {
    const { co, pk, product } = await pendingOrder("stripe", 1999);
    expect(co.payment.payment_intent_params).toMatchObject({
      amount: 1999,
      currency: "cny",
      metadata: { order_id: co.order_id },
    });
    const event = paymentIntentSucceeded(co.order_id, 1999, "CNY");
    const n = await stripeNotice(event);
    const res = await notify("stripe", n.body, n.headers);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true });
    expect(res.headers.get("x-notice-outcome")).toBe("accepted");
    expect((await notify("stripe", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("duplicate");
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("fulfilled");
    expect(await stockOf(product.id)).toMatchObject({ issued: 1, held: 0 });
    expect(await noticesOf(co.order_id)).toMatchObject([
      { gateway: "stripe", notice_id: event.id, outcome: "accepted", deliveries: 2 },
    ]);
  });

  it("the stripe SDK also runs inside the Workers runtime (async signing only) and its header is accepted", async () => {
    const { co, pk } = await pendingOrder("stripe", 700);
    const payload = JSON.stringify(paymentIntentSucceeded(co.order_id, 700, "CNY"));
    const sdk = new Stripe("sk_test_in_workerd");
    expect(() =>
      sdk.webhooks.generateTestHeaderString({ payload, secret: (env as any).STRIPE_WEBHOOK_SECRET }),
    ).toThrow(/synchronous/);
    const header = await sdk.webhooks.generateTestHeaderStringAsync({
      payload,
      secret: (env as any).STRIPE_WEBHOOK_SECRET,
    });
    expect((await notify("stripe", payload, { "Stripe-Signature": header })).headers.get("x-notice-outcome")).toBe(
      "accepted",
    );
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("fulfilled");
  });

  it("checkout.session.completed pays too; wrong secret, old timestamp, tampered body and wrong amount are refused", async () => {
    const { co, pk } = await pendingOrder("stripe", 500);
    const bad = await stripeNotice(
      paymentIntentSucceeded(co.order_id, 500, "CNY"),
      Math.floor(Date.now() / 1000) - 600,
    );
    expect((await notify("stripe", bad.body, bad.headers)).status).toBe(401);
    const good = await stripeNotice(paymentIntentSucceeded(co.order_id, 500, "CNY"));
    expect(
      (await notify("stripe", good.body.replace('"amount_received":500', '"amount_received":5'), good.headers)).status,
    ).toBe(401);
    // Flip the first hex digit of the signature (to a different digit: a fixed "0" left it unchanged 1 time in 16).
    const flipped = good.headers["Stripe-Signature"].replace(
      /v1=(.)/,
      (_: string, d: string) => `v1=${d === "0" ? "1" : "0"}`,
    );
    expect((await notify("stripe", good.body, { "Stripe-Signature": flipped })).status).toBe(401);
    expect((await notify("stripe", good.body, {})).status).toBe(401);
    const cheap = await stripeNotice(paymentIntentSucceeded(co.order_id, 499, "CNY"));
    expect((await notify("stripe", cheap.body, cheap.headers)).status).toBe(422);
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("pending_payment");
    const session = await stripeNotice({
      id: `evt_session_${co.order_id.slice(-12)}`,
      object: "event",
      type: "checkout.session.completed",
      data: {
        object: {
          id: "cs_test_1",
          object: "checkout.session",
          payment_status: "paid",
          amount_total: 500,
          currency: "cny",
          client_reference_id: co.order_id,
          payment_intent: "pi_session_1",
          metadata: {},
        },
      },
    });
    expect((await notify("stripe", session.body, session.headers)).headers.get("x-notice-outcome")).toBe("accepted");
    // A second, different event for the same payment: delivered once.
    expect((await notify("stripe", good.body, good.headers)).headers.get("x-notice-outcome")).toMatch(
      /duplicate|double_payment/,
    );
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.items[0].codes).toHaveLength(1);
    // Events we do not use are acknowledged and ignored.
    const other = await stripeNotice({
      id: "evt_other_1",
      object: "event",
      type: "customer.created",
      data: { object: { id: "cus_1", object: "customer" } },
    });
    expect((await notify("stripe", other.body, other.headers)).status).toBe(200);
  });
});

describe("alipay", () => {
  const params = (co: any, overrides: Record<string, string> = {}) => ({
    notify_time: "2026-11-25 12:00:00",
    notify_type: "trade_status_sync",
    notify_id: `ac05099524730693a8b330c5ecf72da${Date.now()}${Math.random().toString(36).slice(2, 6)}`,
    app_id: "2021000000000000",
    charset: "utf-8",
    version: "1.0",
    trade_no: `2026112522001${Date.now()}`,
    out_trade_no: co.order_id,
    trade_status: "TRADE_SUCCESS",
    total_amount: (co.amount / 100).toFixed(2),
    receipt_amount: (co.amount / 100).toFixed(2),
    buyer_id: "2088102122524333",
    subject: "VIP 30 天",
    ...overrides,
  });

  it("an RSA2 notice (signed as Alipay does, accepted by alipay-sdk) fulfils the order and is answered `success`", async () => {
    const { co, pk } = await pendingOrder("alipay", 1005);
    expect(co.payment.method).toBe("alipay.trade.wap.pay"); // the signed pay URL: alipay-pay-url.test.ts
    const n = await alipayNotice(params(co));
    const res = await notify("alipay", n.body, {}, "application/x-www-form-urlencoded; charset=utf-8");
    expect(res.status).toBe(200);
    expect(res.text).toBe("success");
    expect(res.headers.get("x-notice-outcome")).toBe("accepted");
    expect((await notify("alipay", n.body, {}, "application/x-www-form-urlencoded")).text).toBe("success");
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("fulfilled");
    expect(await noticesOf(co.order_id)).toMatchObject([
      { gateway: "alipay", outcome: "accepted", deliveries: 2, amount: 1005, currency: "CNY" },
    ]);
  });

  it("refuses a correctly signed notice of another Alipay app (a trade opened elsewhere with our order id)", async () => {
    const { co, pk } = await pendingOrder("alipay", 700);
    const n = await alipayNotice(params(co, { app_id: "2021009999999999" }));
    expect(await alipaySdkAccepts(n.params)).toBe(true); // Alipay's signature is valid: only the app tells it apart
    expect((await notify("alipay", n.body, {}, "application/x-www-form-urlencoded")).status).toBe(401);
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("pending_payment");
  });

  it("refuses a tampered amount (the SDK refuses it too), a forged sign and a wrong total", async () => {
    const { co, pk } = await pendingOrder("alipay", 800);
    const n = await alipayNotice(params(co));
    const tampered = { ...n.params, total_amount: "0.01" };
    expect(await alipaySdkAccepts(tampered)).toBe(false);
    expect(
      (await notify("alipay", new URLSearchParams(tampered).toString(), {}, "application/x-www-form-urlencoded"))
        .status,
    ).toBe(401);
    const forged = {
      ...n.params,
      sign: n.params.sign.slice(0, 20) + (n.params.sign[20] === "A" ? "B" : "A") + n.params.sign.slice(21),
    };
    expect(
      (await notify("alipay", new URLSearchParams(forged).toString(), {}, "application/x-www-form-urlencoded")).status,
    ).toBe(401);
    const unsigned = { ...n.params } as Record<string, string>;
    delete unsigned.sign;
    expect(
      (await notify("alipay", new URLSearchParams(unsigned).toString(), {}, "application/x-www-form-urlencoded"))
        .status,
    ).toBe(401);
    const wrong = await alipayNotice(params(co, { total_amount: "7.99" }));
    expect((await notify("alipay", wrong.body, {}, "application/x-www-form-urlencoded")).status).toBe(422);
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("pending_payment");
    const waiting = await alipayNotice(params(co, { trade_status: "WAIT_BUYER_PAY" }));
    expect(
      (await notify("alipay", waiting.body, {}, "application/x-www-form-urlencoded")).headers.get("x-notice-outcome"),
    ).toBe("ignored");
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("pending_payment");
  });
});

describe("wechat pay v3", () => {
  const tx = (co: any, overrides: Record<string, unknown> = {}) => ({
    mchid: "1230000109",
    appid: "wxd678efh567hg6787",
    out_trade_no: co.order_id,
    transaction_id: `42000000${Date.now()}`,
    trade_type: "NATIVE",
    trade_state: "SUCCESS",
    trade_state_desc: "支付成功",
    success_time: new Date().toISOString(),
    payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
    amount: { total: co.amount, payer_total: co.amount, currency: "CNY", payer_currency: "CNY" },
    ...overrides,
  });

  it("an encrypted, signed TRANSACTION.SUCCESS fulfils the order once and is answered {code: SUCCESS}", async () => {
    const { co, pk, product } = await pendingOrder("wechat", 2500, 2);
    const n = await wechatNotice(tx(co));
    const results = await Promise.all(Array.from({ length: 10 }, () => notify("wechat", n.body, n.headers)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(results[0].json).toEqual({ code: "SUCCESS" });
    expect(results.filter((r) => r.headers.get("x-notice-outcome") === "accepted")).toHaveLength(1);
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.items[0].codes).toHaveLength(2);
    expect(await stockOf(product.id)).toMatchObject({ issued: 2, held: 0 });
  });

  it("refuses a bad signature, a stale timestamp, a resource under another key and a wrong amount", async () => {
    const { co, pk } = await pendingOrder("wechat", 900);
    const n = await wechatNotice(tx(co));
    expect((await notify("wechat", n.body.replace("transaction", "transactioN"), n.headers)).status).toBe(401);
    expect((await notify("wechat", n.body, { ...n.headers, "Wechatpay-Nonce": "other" })).status).toBe(401);
    const stale = await wechatNotice(tx(co), { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect((await notify("wechat", stale.body, stale.headers)).status).toBe(401);
    const otherKey = await wechatNotice(tx(co), { apiKey: "ABCDEFGHIJ0123456789abcdefghij01" });
    expect((await notify("wechat", otherKey.body, otherKey.headers)).status).toBe(401);
    const cheap = await wechatNotice(tx(co, { amount: { total: 1, currency: "CNY" } }));
    expect((await notify("wechat", cheap.body, cheap.headers)).status).toBe(422);
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("pending_payment");
    const stored = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM payment_notices WHERE order_id = ?1 AND outcome LIKE 'rejected_signature%'",
    )
      .bind(co.order_id)
      .first<{ n: number }>();
    expect(stored!.n).toBe(0); // unverified notices are counted, never stored
  });
});

describe("callback rate limits", () => {
  it("gateway notices from one address are budgeted per gateway, not by the public per-IP limit", async () => {
    const ip = "203.0.113.77";
    const bad = JSON.stringify({ id: "ntc_x", type: "payment.succeeded", data: {} });
    const notices = await Promise.all(
      Array.from({ length: 150 }, () =>
        notify("sandbox", bad, {
          "cf-connecting-ip": ip,
          "sandbox-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`,
        }),
      ),
    );
    expect(notices.filter((r) => r.status === 429)).toHaveLength(0);
    expect(new Set(notices.map((r) => r.status))).toEqual(new Set([401]));
    // The same address on a public consumer endpoint meets the per-IP limit (120 a minute). The local limiter's
    // minute starts on the clock: all 150 requests go inside one, or a new minute could reset the count halfway.
    await insideOneWindow(60_000, 15_000);
    const verifies = await Promise.all(
      Array.from({ length: 150 }, () =>
        call(
          "POST",
          "/v1/public/codes/verify",
          { code: "AAAA-BBBB-CCCC-DDDD" },
          { token: null, headers: { "cf-connecting-ip": ip } },
        ),
      ),
    );
    expect(verifies.some((r) => r.status === 429 && r.json.error.code === "rate_limited")).toBe(true);
  });
});
