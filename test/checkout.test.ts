/**
 * Consumer checkout on the real runtime: publishable keys, holds, sandbox notices, idempotent payment,
 * configuration. Expiry, late payments, overselling and per-customer limits: checkout-holds.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  callEnv,
  checkout,
  checkoutStatus,
  eventCount,
  noticesOf,
  notify,
  ORIGIN,
  paidData,
  publishableKey,
  sandboxNotice,
  shopChannel,
  stockOf,
} from "./gateway-counterparts/fixtures";
import { call, eventually, idemKey, order, productWithCodes } from "./helpers";

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
    // A forged secret: the last hex digit changed (never to itself, or 1 run in 16 would send the real one).
    const forged = `${co.client_secret.slice(0, -1)}${co.client_secret.endsWith("0") ? "1" : "0"}`;
    expect((await checkoutStatus(shop.pk, co.order_id, forged)).status).toBe(404);

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
});
