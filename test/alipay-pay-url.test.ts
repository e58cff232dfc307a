/**
 * The Alipay phone cashier URL the Worker signs (src/gateways/alipay-pay-url.ts): checked in Node as Alipay's
 * gateway checks a request (RSA2 with the app's public key), beside alipay-sdk's own URL for the same order.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { beijingTimestamp } from "../src/gateways/alipay-pay-url";
import { alipayNotice, checkout, checkoutStatus, notify, publishableKey } from "./gateway-counterparts/fixtures";
import { productWithCodes } from "./helpers";

const E = env as unknown as Record<string, any>;

async function gatewayVerdict(url: string) {
  const res = await E.GATEWAY_COUNTERPARTS.fetch("http://counterparts/alipay/gateway", {
    method: "POST",
    body: JSON.stringify({ url }),
  });
  return (await res.json()) as {
    ok: boolean;
    sdk_ok: boolean;
    sdk_fields: Record<string, string>;
    params: Record<string, string>;
  };
}

async function alipayCheckout(price: number, returnUrl?: string, envOverride?: Record<string, unknown>) {
  const product = await productWithCodes(2, { price });
  const pk = await publishableKey();
  const res = await checkout(pk, [{ product_id: product.id, quantity: 1 }], "alipay", {
    env: envOverride,
    ...(returnUrl ? { body: { return_url: returnUrl } } : {}),
  });
  expect(res.status).toBe(201);
  return { pk, co: res.json };
}

describe("Alipay wap pay URL", () => {
  it("is signed as Alipay's gateway verifies it, with the fields alipay-sdk sends", async () => {
    const { co } = await alipayCheckout(1005, "https://ve.test/order/");
    const url: string = co.payment.pay_url;
    expect(url.startsWith("https://openapi.alipay.com/gateway.do?")).toBe(true);
    expect(url).not.toContain("+"); // percent-encoded like the SDK
    const verdict = await gatewayVerdict(url);
    expect(verdict.ok).toBe(true);
    expect(verdict.sdk_ok).toBe(true);
    const { sign: _ours, ...ours } = verdict.params;
    const { sign: _sdks, ...sdk } = verdict.sdk_fields;
    expect(ours).toEqual(sdk);
    expect(ours).toMatchObject({
      app_id: E.ALIPAY_APP_ID,
      method: "alipay.trade.wap.pay",
      sign_type: "RSA2",
      charset: "utf-8",
      version: "1.0",
      notify_url: "http://ve.test/v1/public/payments/alipay/notify",
      return_url: "https://ve.test/order/",
    });
    expect(JSON.parse(ours.biz_content)).toEqual({
      out_trade_no: co.order_id,
      total_amount: "10.05",
      subject: `Order ${co.order_id}`,
      product_code: "QUICK_WAP_WAY",
      timeout_express: "30m",
    });
    // Beijing time, within a minute of now; and nothing secret in a URL Alipay and browsers log.
    const skew = Math.abs(Date.parse(`${ours.timestamp.replace(" ", "T")}+08:00`) - Date.now());
    expect(skew).toBeLessThan(60_000);
    for (const secret of [co.client_secret, co.order_token]) expect(url).not.toContain(secret);
  });

  it("a changed amount no longer verifies", async () => {
    const { co } = await alipayCheckout(2000);
    const url = new URL(co.payment.pay_url);
    const biz = JSON.parse(url.searchParams.get("biz_content")!);
    url.searchParams.set("biz_content", JSON.stringify({ ...biz, total_amount: "0.01" }));
    expect((await gatewayVerdict(url.toString())).ok).toBe(false);
    expect((await gatewayVerdict(co.payment.pay_url)).ok).toBe(true);
  });

  it("the paid notice for that trade fulfils the order", async () => {
    const { co, pk } = await alipayCheckout(1288);
    const biz = JSON.parse(new URL(co.payment.pay_url).searchParams.get("biz_content")!);
    const n = await alipayNotice({
      notify_id: `nt${Date.now()}${Math.random().toString(36).slice(2, 8)}`,
      notify_type: "trade_status_sync",
      trade_no: `2026120222001${Date.now()}`,
      out_trade_no: biz.out_trade_no,
      trade_status: "TRADE_SUCCESS",
      total_amount: biz.total_amount,
    });
    expect((await notify("alipay", n.body, {}, "application/x-www-form-urlencoded")).text).toBe("success");
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("fulfilled");
  });

  it("without the app's private key, answers the biz fields for the merchant's server to sign", async () => {
    const { co } = await alipayCheckout(900, undefined, { ALIPAY_APP_PRIVATE_KEY: "" });
    expect(co.payment.pay_url).toBeUndefined();
    expect(co.payment.biz_content).toMatchObject({ out_trade_no: co.order_id, total_amount: "9.00" });
  });

  it("stamps Beijing time", () => {
    expect(beijingTimestamp(Date.UTC(2026, 11, 31, 17, 30, 5))).toBe("2027-01-01 01:30:05");
  });
});
