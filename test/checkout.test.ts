/** Consumer checkout on the real runtime: publishable keys, holds, sandbox notices, idempotent payment, late payment, no overselling. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { channelAccount } from "../src/objects/channel-account";
import {
  callEnv,
  checkout,
  checkoutStatus,
  eventCount,
  noticesOf,
  notify,
  ORIGIN,
  publishableKey,
  sandboxNotice,
  shopChannel,
  stockOf,
} from "./gateway-counterparts/fixtures";
import { call, clockPast, eventually, idemKey, order, productWithCodes } from "./helpers";
import { runAlarmNow } from "./pipeline-fixtures";

const paidData = (co: any) => ({
  order_id: co.order_id,
  payment_id: co.payment.payment_id,
  amount: co.amount,
  currency: co.currency,
});

describe("publishable keys", () => {
  it("are created shown once, only reach checkout, and check the Origin", async () => {
    const product = await productWithCodes(3, { price: 990 });
    const created = await call("POST", "/v1/channels/chn_root/keys", {
      type: "publishable",
      allowed_origins: [ORIGIN],
    });
    expect(created.status).toBe(201);
    const pk = created.json.secret as string;
    expect(pk.startsWith("pk_")).toBe(true);
    expect(created.json.allowed_origins).toEqual([ORIGIN]);
    const row = await env.DB.prepare("SELECT hash FROM publishable_keys WHERE id = ?1")
      .bind(created.json.id)
      .first<{ hash: string }>();
    expect(row!.hash).not.toContain(pk.slice(3));
    const listed = (await call("GET", "/v1/channels/chn_root/keys")).json.data.find(
      (k: any) => k.id === created.json.id,
    );
    expect(listed).toMatchObject({ type: "publishable", allowed_origins: [ORIGIN], scopes: ["checkout"] });
    expect(listed.secret).toBeUndefined();

    // Not an API key: every other endpoint refuses it.
    expect((await call("GET", "/v1/products", undefined, { token: pk })).status).toBe(401);
    expect((await order([{ product_id: product.id, quantity: 1 }], {}, idemKey(), pk)).status).toBe(401);

    // The allowed origin gets CORS headers; another origin is refused before anything happens; no Origin (a server) is allowed.
    const ok = await checkout(pk, [{ product_id: product.id, quantity: 1 }]);
    expect(ok.status).toBe(201);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const evil = await checkout(pk, [{ product_id: product.id, quantity: 1 }], "sandbox", {
      origin: "https://evil.example",
    });
    expect(evil.status).toBe(403);
    expect(evil.json.error.code).toBe("origin_not_allowed");
    expect((await checkout(pk, [{ product_id: product.id, quantity: 1 }], "sandbox", { origin: null })).status).toBe(
      201,
    );
    expect((await stockOf(product.id)).held).toBe(2);

    const pre = await callEnv("OPTIONS", "/v1/checkout", {
      headers: { origin: ORIGIN, "access-control-request-method": "POST" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const preEvil = await callEnv("OPTIONS", "/v1/checkout", {
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preEvil.headers.get("access-control-allow-origin")).toBeNull();

    // Revoked: refused.
    expect((await call("DELETE", `/v1/channels/chn_root/keys/${created.json.id}`)).status).toBe(200);
    const late = await checkout(pk, [{ product_id: product.id, quantity: 1 }]);
    expect([401]).toContain(late.status);
    // Secret keys still need their own fields; publishable keys need origins.
    expect((await call("POST", "/v1/channels/chn_root/keys", { type: "publishable" })).status).toBe(400);
    expect(
      (
        await call("POST", "/v1/channels/chn_root/keys", {
          type: "publishable",
          allowed_origins: ["javascript:alert(1)"],
        })
      ).status,
    ).toBe(400);
  });
});

describe("checkout → hold → sandbox notice → fulfilled", () => {
  it("holds codes, pays once, reveals the codes with the client secret", async () => {
    const product = await productWithCodes(5, { price: 1200 });
    const shop = await shopChannel(product.id, 5);
    const key = idemKey("co");
    const res = await checkout(shop.pk, [{ product_id: product.id, quantity: 2 }], "sandbox", { key });
    expect(res.status).toBe(201);
    const co = res.json;
    expect(co).toMatchObject({
      status: "pending_payment",
      amount: 2400,
      currency: "CNY",
      payment: { gateway: "sandbox" },
    });
    expect(co.payment.payment_id).toMatch(/^pay_/);
    expect(Date.parse(co.expires_at) - Date.now()).toBeGreaterThan(800_000);
    expect((await stockOf(product.id)).held).toBe(2);
    // Same key, same body: the same order; another body: 409.
    const again = await checkout(shop.pk, [{ product_id: product.id, quantity: 2 }], "sandbox", { key });
    expect(again.json.order_id).toBe(co.order_id);
    expect(again.json.client_secret).toBe(co.client_secret);
    expect((await checkout(shop.pk, [{ product_id: product.id, quantity: 1 }], "sandbox", { key })).status).toBe(409);

    const before = await checkoutStatus(shop.pk, co.order_id, co.client_secret);
    expect(before.json.status).toBe("pending_payment");
    expect(before.json.items[0].codes).toBeUndefined();
    expect((await checkoutStatus(shop.pk, co.order_id, `${co.client_secret.slice(0, -1)}0`)).status).toBe(404);

    const n = await sandboxNotice(paidData(co));
    const paid = await notify("sandbox", n.body, n.headers);
    expect(paid.status).toBe(200);
    expect(paid.headers.get("x-notice-outcome")).toBe("accepted");
    const after = await checkoutStatus(shop.pk, co.order_id, co.client_secret);
    expect(after.json.status).toBe("fulfilled");
    expect(after.json.items[0].codes).toHaveLength(2);
    const stock = await stockOf(product.id);
    expect(stock).toMatchObject({ held: 0, issued: 2, available: 3 });
    // pending_payment, paid, fulfilled: three events, exactly.
    expect(await eventCount(shop.id)).toBe(3);
    expect(await noticesOf(co.order_id)).toMatchObject([
      { gateway: "sandbox", outcome: "accepted", amount: 2400, currency: "CNY" },
    ]);
    const projected = await eventually(
      () => env.DB.prepare("SELECT status FROM orders WHERE id = ?1").bind(co.order_id).first<{ status: string }>(),
      (r) => r?.status === "fulfilled",
    );
    expect(projected?.status).toBe("fulfilled");
    const audit = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE resource_id = ?1 AND action = 'GET /v1/checkout/{order_id}'",
    )
      .bind(co.order_id)
      .first<{ n: number }>();
    expect(audit!.n).toBeGreaterThanOrEqual(1);
  });

  it("the same notice 20 times at once, and another notice of the same payment, deliver the codes once", async () => {
    const product = await productWithCodes(4, { price: 500 });
    const shop = await shopChannel(product.id, 4);
    const co = (await checkout(shop.pk, [{ product_id: product.id, quantity: 1 }])).json;
    const n = await sandboxNotice(paidData(co));
    const results = await Promise.all(Array.from({ length: 20 }, () => notify("sandbox", n.body, n.headers)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.filter((r) => r.headers.get("x-notice-outcome") === "accepted")).toHaveLength(1);
    const other = await sandboxNotice(paidData(co));
    expect((await notify("sandbox", other.body, other.headers)).headers.get("x-notice-outcome")).toBe("duplicate");
    expect(await stockOf(product.id)).toMatchObject({ issued: 1, held: 0, available: 3 });
    expect(await eventCount(shop.id)).toBe(3);
    const notices = await noticesOf(co.order_id);
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatchObject({ outcome: "accepted", deliveries: 20 });
    expect(notices[1]).toMatchObject({ outcome: "duplicate", deliveries: 1 });
  });

  it("refuses amount and currency mismatches and bad signatures, leaving the order untouched", async () => {
    const product = await productWithCodes(2, { price: 700 });
    const shop = await shopChannel(product.id, 2);
    const co = (await checkout(shop.pk, [{ product_id: product.id, quantity: 1 }])).json;
    const cheap = await sandboxNotice({ ...paidData(co), amount: 1 });
    const r1 = await notify("sandbox", cheap.body, cheap.headers);
    expect(r1.status).toBe(422);
    expect(r1.json.error.code).toBe("amount_mismatch");
    const usd = await sandboxNotice({ ...paidData(co), currency: "USD" });
    expect((await notify("sandbox", usd.body, usd.headers)).json.error.code).toBe("currency_mismatch");
    const forged = await sandboxNotice(paidData(co), { secret: "not-the-secret" });
    expect((await notify("sandbox", forged.body, forged.headers)).status).toBe(401);
    const stale = await sandboxNotice(paidData(co), { t: Math.floor(Date.now() / 1000) - 3600 });
    expect((await notify("sandbox", stale.body, stale.headers)).status).toBe(401);
    const good = await sandboxNotice(paidData(co));
    const tampered = good.body.replace('"amount":700', '"amount":7000');
    expect((await notify("sandbox", tampered, good.headers)).status).toBe(401);
    expect((await notify("sandbox", "not json", good.headers)).status).toBe(401);
    expect((await checkoutStatus(shop.pk, co.order_id, co.client_secret)).json.status).toBe("pending_payment");
    expect(await stockOf(product.id)).toMatchObject({ held: 1, issued: 0 });
    expect((await noticesOf(co.order_id)).map((n: any) => n.outcome).sort()).toEqual([
      "rejected_amount",
      "rejected_currency",
    ]);
    const rejected = await env.DB.prepare(
      "SELECT SUM(count) AS n FROM payment_notice_rejections WHERE gateway = 'sandbox'",
    ).first<{ n: number }>();
    expect(rejected!.n).toBeGreaterThanOrEqual(4);
    // The right notice still pays it.
    expect((await notify("sandbox", good.body, good.headers)).headers.get("x-notice-outcome")).toBe("accepted");
  });

  it("an order of two products (one of them sharded) holds and issues every line", async () => {
    const a = await productWithCodes(4, { price: 100 });
    const b = await productWithCodes(6, { price: 250, shards: 2 });
    const pk = await publishableKey();
    const co = (
      await checkout(pk, [
        { product_id: a.id, quantity: 2 },
        { product_id: b.id, quantity: 3 },
      ])
    ).json;
    expect(co.amount).toBe(950);
    expect((await stockOf(a.id)).held + (await stockOf(b.id)).held).toBe(5);
    const n = await sandboxNotice(paidData(co));
    expect((await notify("sandbox", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("accepted");
    const done = (await checkoutStatus(pk, co.order_id, co.client_secret)).json;
    expect(done.items.map((i: any) => i.codes.length)).toEqual([2, 3]);
    expect(await stockOf(b.id)).toMatchObject({ issued: 3, held: 0 });
  });

  it("the development pay endpoint pays a sandbox order, and is refused outside development", async () => {
    const product = await productWithCodes(1, { price: 300 });
    const pk = await publishableKey();
    const co = (await checkout(pk, [{ product_id: product.id, quantity: 1 }])).json;
    expect(
      (await callEnv("POST", `/v1/public/sandbox/pay/${co.order_id}`, { env: { ENVIRONMENT: "production" } })).status,
    ).toBe(403);
    const paid = await callEnv("POST", `/v1/public/sandbox/pay/${co.order_id}`);
    expect(paid.json).toMatchObject({ order_id: co.order_id, outcome: "accepted" });
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("fulfilled");
  });
});

describe("expiry and late payments", () => {
  const short = { CHECKOUT_HOLD_SECONDS: "1" };

  it("an unpaid order is cancelled at expiry; paid later with stock left → late_fulfilled", async () => {
    const product = await productWithCodes(2, { price: 100 });
    const shop = await shopChannel(product.id, 2);
    const co = (await checkout(shop.pk, [{ product_id: product.id, quantity: 1 }], "sandbox", { env: short })).json;
    const cancelled = await eventually(
      () => checkoutStatus(shop.pk, co.order_id, co.client_secret),
      (r) => r.json.status === "cancelled",
    );
    expect(cancelled.json.status).toBe("cancelled");
    expect(await stockOf(product.id)).toMatchObject({ held: 0, available: 2 });
    const n = await sandboxNotice(paidData(co));
    expect((await notify("sandbox", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("late_fulfilled");
    const after = await checkoutStatus(shop.pk, co.order_id, co.client_secret);
    expect(after.json.status).toBe("fulfilled");
    expect(after.json.items[0].codes).toHaveLength(1);
    expect(await stockOf(product.id)).toMatchObject({ issued: 1, available: 1 });
  });

  it("paid after expiry with no stock left → refunded through the gateway (late_refunded)", async () => {
    const product = await productWithCodes(1, { price: 100 });
    const shop = await shopChannel(product.id, 1);
    const co = (await checkout(shop.pk, [{ product_id: product.id, quantity: 1 }], "sandbox", { env: short })).json;
    await eventually(
      () => checkoutStatus(shop.pk, co.order_id, co.client_secret),
      (r) => r.json.status === "cancelled",
    );
    // Someone else buys the last code meanwhile.
    const other = (await checkout(shop.pk, [{ product_id: product.id, quantity: 1 }])).json;
    const n1 = await sandboxNotice(paidData(other));
    expect((await notify("sandbox", n1.body, n1.headers)).headers.get("x-notice-outcome")).toBe("accepted");
    const before = await eventCount(shop.id);
    const n = await sandboxNotice(paidData(co));
    expect((await notify("sandbox", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("late_refunded");
    expect((await notify("sandbox", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("duplicate");
    expect((await checkoutStatus(shop.pk, co.order_id, co.client_secret)).json.status).toBe("refunded");
    expect(await eventCount(shop.id)).toBe(before + 2); // order.paid, then order.refunded
    expect(await stockOf(product.id)).toMatchObject({ issued: 1, available: 0, held: 0 });
    const refund = await eventually(
      () => env.DB.prepare("SELECT * FROM refunds WHERE order_id = ?1").bind(co.order_id).first<any>(),
      (r) => r !== null,
    );
    expect(refund).toMatchObject({ to: "gateway", gateway: "sandbox", was_fulfilled: 0, amount: 100 });
  });

  it("payment notices racing the expiry: the order ends paid once, with its codes issued once", async () => {
    const product = await productWithCodes(3, { price: 100 });
    const shop = await shopChannel(product.id, 3);
    const co = (await checkout(shop.pk, [{ product_id: product.id, quantity: 1 }], "sandbox", { env: short })).json;
    const expiresAt = Date.parse(co.expires_at);
    // The race is with the clock: the notices go out just before the hold expires, so the alarm that cancels it
    // may run before, between or after them.
    await clockPast(expiresAt - 50);
    const notices = await Promise.all(Array.from({ length: 8 }, () => sandboxNotice(paidData(co))));
    const results = await Promise.all(notices.map((n) => notify("sandbox", n.body, n.headers)));
    const outcomes = results.map((r) => r.headers.get("x-notice-outcome"));
    expect(outcomes.filter((o) => o !== "duplicate")).toHaveLength(1);
    expect(["accepted", "late_fulfilled"]).toContain(outcomes.find((o) => o !== "duplicate"));
    const final = await eventually(
      () => checkoutStatus(shop.pk, co.order_id, co.client_secret),
      (r) => r.json.status === "fulfilled",
    );
    expect(final.json.items[0].codes).toHaveLength(1);
    // The cancel alarm must not undo the payment. Instead of waiting for it, run it ourselves once the hold has
    // expired: that is the run that cancels an unpaid order (whether it already ran on its own or not).
    await clockPast(expiresAt);
    await runAlarmNow(channelAccount(env, shop.id));
    expect((await checkoutStatus(shop.pk, co.order_id, co.client_secret)).json.status).toBe("fulfilled");
    expect(await stockOf(product.id)).toMatchObject({ issued: 1, held: 0, available: 2 });
  });

  it("a refund notice before the payment notice: the payment is not delivered", async () => {
    const product = await productWithCodes(1, { price: 100 });
    const pk = await publishableKey();
    const co = (await checkout(pk, [{ product_id: product.id, quantity: 1 }])).json;
    const refundFirst = await sandboxNotice(paidData(co), { type: "payment.refunded" });
    expect((await notify("sandbox", refundFirst.body, refundFirst.headers)).headers.get("x-notice-outcome")).toBe(
      "refund_noted",
    );
    const n = await sandboxNotice(paidData(co));
    expect((await notify("sandbox", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("refunded_at_gateway");
    expect((await checkoutStatus(pk, co.order_id, co.client_secret)).json.status).toBe("refunded");
    expect(await stockOf(product.id)).toMatchObject({ held: 0, issued: 0, available: 1 });
  });
});

describe("no overselling", () => {
  it("many concurrent checkouts for few codes: held + issued never exceed stock, and paying them all issues at most the stock", async () => {
    const product = await productWithCodes(5, { price: 100 });
    const pk = await publishableKey();
    const attempts = await Promise.all(
      Array.from({ length: 30 }, () => checkout(pk, [{ product_id: product.id, quantity: 1 }])),
    );
    const won = attempts.filter((r) => r.status === 201);
    expect(won).toHaveLength(5);
    expect(attempts.filter((r) => r.status === 409).every((r) => r.json.error.code === "out_of_stock")).toBe(true);
    expect(attempts.filter((r) => r.status !== 201 && r.status !== 409)).toHaveLength(0);
    const stock = await stockOf(product.id);
    expect(stock.held + stock.issued).toBeLessThanOrEqual(5);
    expect(stock.held).toBe(5);
    await Promise.all(
      won.map(async (r) => {
        const n = await sandboxNotice(paidData(r.json));
        return notify("sandbox", n.body, n.headers);
      }),
    );
    expect(await stockOf(product.id)).toMatchObject({ issued: 5, held: 0, available: 0 });
  });

  it("respects a child channel's quota", async () => {
    const product = await productWithCodes(10, { price: 100 });
    const shop = await shopChannel(product.id, 2);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => checkout(shop.pk, [{ product_id: product.id, quantity: 1 }])),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    expect(results.filter((r) => r.status === 409).map((r) => r.json.error.code)).toContain("quota_exceeded");
  });
});

describe("configuration", () => {
  it("a gateway without its secret: checkout 422 gateway_not_configured, notify 503 naming the secret", async () => {
    const product = await productWithCodes(1, { price: 100 });
    const pk = await publishableKey();
    const res = await callEnv("POST", "/v1/checkout", {
      token: pk,
      headers: { "idempotency-key": idemKey() },
      body: { items: [{ product_id: product.id, quantity: 1 }], gateway: "stripe" },
      env: { STRIPE_WEBHOOK_SECRET: undefined },
    });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("gateway_not_configured");
    const n = await callEnv("POST", "/v1/public/payments/stripe/notify", {
      raw: "{}",
      env: { STRIPE_WEBHOOK_SECRET: "" },
    });
    expect(n.status).toBe(503);
    expect(n.json.error.message).toContain("STRIPE_WEBHOOK_SECRET");
    expect((await callEnv("POST", "/v1/public/payments/paypal/notify", { raw: "{}" })).status).toBe(404);
  });

  it("the OpenAPI document lists the checkout, refund and sandbox routes", async () => {
    const res = await call("GET", "/v1/openapi.json", undefined, { token: null });
    for (const path of [
      "/v1/checkout",
      "/v1/checkout/{order_id}",
      "/v1/orders/{id}/refund",
      "/v1/public/sandbox/pay/{order_id}",
    ])
      expect(res.json.paths[path]).toBeDefined();
  });

  it("per-customer limits count checkouts, and a cancelled checkout gives its count back", async () => {
    const product = await productWithCodes(5, { price: 100, limits: { per_customer_max: 1 } });
    const pk = await publishableKey();
    const first = await checkout(pk, [{ product_id: product.id, quantity: 1 }], "sandbox", {
      customer_ref: "buyer-1",
      env: { CHECKOUT_HOLD_SECONDS: "1" },
    });
    expect(first.status).toBe(201);
    const second = await checkout(pk, [{ product_id: product.id, quantity: 1 }], "sandbox", {
      customer_ref: "buyer-1",
    });
    expect(second.status).toBe(422);
    expect(second.json.error.code).toBe("per_customer_limit");
    await eventually(
      () => checkoutStatus(pk, first.json.order_id, first.json.client_secret),
      (r) => r.json.status === "cancelled",
    );
    const third = await checkout(pk, [{ product_id: product.id, quantity: 1 }], "sandbox", {
      customer_ref: "buyer-1",
      env: { CHECKOUT_HOLD_SECONDS: "1" },
    });
    expect(third.status).toBe(201);
    await eventually(
      () => checkoutStatus(pk, third.json.order_id, third.json.client_secret),
      (r) => r.json.status === "cancelled",
    );
    // The first one is paid late after all: it counts again, so the buyer's next checkout is over the limit.
    const n = await sandboxNotice(paidData(first.json));
    expect((await notify("sandbox", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("late_fulfilled");
    expect(
      (await checkout(pk, [{ product_id: product.id, quantity: 1 }], "sandbox", { customer_ref: "buyer-1" })).json.error
        .code,
    ).toBe("per_customer_limit");
  });
});
