/**
 * The hosted buy and order pages' API on the real runtime: the catalog per publishable key, the order
 * token and look-up password, the timeline (paid → issued → revealed → redeemed), reveals under concurrency.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  callEnv,
  checkoutStatus,
  notify,
  ORIGIN,
  paidData,
  publishableKey,
  sandboxNotice,
  shopChannel,
} from "./gateway-counterparts/fixtures";
import { call, eventually, idemKey, productWithCodes } from "./helpers";

const lookup = (body: unknown, ip?: string) =>
  callEnv("POST", "/v1/public/orders/lookup", { body, headers: ip ? { "cf-connecting-ip": ip } : {} });
const reveal = (token: string) => callEnv("POST", "/v1/public/orders/reveal", { body: { token } });
const stepOf = (page: any, step: string) => page.timeline.find((t: any) => t.step === step);

async function buy(pk: string, productId: string, quantity: number, extra: Record<string, unknown> = {}, key?: string) {
  return callEnv("POST", "/v1/checkout", {
    token: pk,
    headers: { "idempotency-key": key ?? idemKey("co"), origin: ORIGIN },
    body: { items: [{ product_id: productId, quantity }], gateway: "sandbox", ...extra },
  });
}

async function pay(co: any) {
  const n = await sandboxNotice(paidData(co));
  expect((await notify("sandbox", n.body, n.headers)).status).toBe(200);
}

describe("GET /v1/catalog", () => {
  it("lists what the key's channel sells at its price, and only that", async () => {
    const listed = await productWithCodes(2, { price: 1500, name: "Pool product" });
    const other = await productWithCodes(1, { price: 700 });
    const shop = await shopChannel(listed.id, 2);
    await call("PUT", `/v1/channels/${shop.id}/products/${listed.id}`, { enabled: true, price: 1200 });
    const res = await callEnv("GET", "/v1/catalog", { token: shop.pk, headers: { origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(res.json.gateways).toEqual(["sandbox", "alipay", "wechat"]); // the tests set both merchant keys
    expect(res.json.products).toEqual([
      expect.objectContaining({ id: listed.id, name: "Pool product", price: 1200, currency: "CNY" }),
    ]);
    expect(res.json.products.some((p: any) => p.id === other.id)).toBe(false);
    // Paused: off the page at once.
    await call("PATCH", `/v1/products/${listed.id}`, { status: "paused" });
    const after = await callEnv("GET", "/v1/catalog", { token: shop.pk });
    expect(after.json.products).toEqual([]);
  });

  it("refuses a missing key, a foreign origin; accepts the Worker's own origin (the hosted pages)", async () => {
    const pk = await publishableKey();
    expect((await callEnv("GET", "/v1/catalog")).status).toBe(401);
    const foreign = await callEnv("GET", "/v1/catalog", { token: pk, headers: { origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(foreign.json.error.code).toBe("origin_not_allowed");
    const own = await callEnv("GET", "/v1/catalog", { token: pk, headers: { origin: "http://ve.test" } });
    expect(own.status).toBe(200);
    expect(own.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the order page", () => {
  it("follows the order from payment to redemption, by token and by password", async () => {
    const product = await productWithCodes(4, { price: 900, name: "Timeline card" });
    const shop = await shopChannel(product.id, 4);
    const co = (await buy(shop.pk, product.id, 2, { lookup_password: "correct horse 42" })).json;
    expect(co.order_token).toMatch(/^vot1\.ord_/);
    const stored = await env.DB.prepare("SELECT password_hash FROM order_access WHERE order_id = ?1")
      .bind(co.order_id)
      .first<{ password_hash: string }>();
    expect(stored!.password_hash.startsWith("pbkdf2-sha256$")).toBe(true);
    expect(stored!.password_hash).not.toContain("horse");

    const before = await lookup({ token: co.order_token });
    expect(before.status).toBe(200);
    expect(before.json).toMatchObject({ status: "pending_payment", amount: 1800, codes: [] });
    expect(before.json.items).toEqual([
      { product_id: product.id, product_name: "Timeline card", quantity: 2, unit_price: 900 },
    ]);
    expect(stepOf(before.json, "paid").state).toBe("pending");
    const early = await reveal(co.order_token);
    expect(early.status).toBe(409);
    expect(early.json.error.code).toBe("not_fulfilled");

    await pay(co);
    const paid = await eventually(
      () => lookup({ token: co.order_token }),
      (r) => r.json.codes.length === 2,
    );
    expect(stepOf(paid.json, "paid")).toMatchObject({ state: "done" });
    expect(Date.parse(stepOf(paid.json, "paid").at)).toBeGreaterThan(0);
    expect(stepOf(paid.json, "issued").state).toBe("done");
    expect(stepOf(paid.json, "revealed").state).toBe("pending");
    expect(JSON.stringify(paid.json)).not.toMatch(/"code"/);

    const shown = await reveal(co.order_token);
    expect(shown.status).toBe(200);
    const codes = shown.json.items[0].codes;
    const viaApi = await checkoutStatus(shop.pk, co.order_id, co.client_secret);
    expect(codes).toEqual(viaApi.json.items[0].codes);
    expect(paid.json.codes.map((k: any) => k.last4).sort()).toEqual(codes.map((k: any) => k.code.slice(-4)).sort());

    const redeemed = await callEnv("POST", "/v1/public/redemptions", { body: { code: codes[0].code } });
    expect(redeemed.status).toBe(201);
    const later = await eventually(
      () => lookup({ order_id: co.order_id, password: "correct horse 42" }),
      (r) => stepOf(r.json, "redeemed")?.count === 1,
    );
    expect(later.status).toBe(200);
    expect(stepOf(later.json, "revealed").state).toBe("done");
    expect(stepOf(later.json, "redeemed")).toMatchObject({ state: "pending", count: 1, of: 2 });
    // The password look-up hands back a token that reveals.
    expect((await reveal(later.json.token)).status).toBe(200);
  });

  it("answers a wrong password, an unknown order and a forged token alike, and counts the guesses", async () => {
    const product = await productWithCodes(2, { price: 500 });
    const shop = await shopChannel(product.id, 2);
    const co = (await buy(shop.pk, product.id, 1, { lookup_password: "a good password" })).json;
    const ip = "10.250.1.1";
    const wrong = await lookup({ order_id: co.order_id, password: "not the password" }, ip);
    const unknown = await lookup({ order_id: "ord_doesnotexist", password: "a good password" }, ip);
    const forged = `${co.order_token.slice(0, -1)}${co.order_token.endsWith("0") ? "1" : "0"}`;
    const badToken = await lookup({ token: forged });
    for (const r of [wrong, unknown, badToken]) {
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe("not_found");
    }
    // Guesses are budgeted per IP like code guesses: with a budget of 3, the third wrong one locks the IP out.
    const tight = { FAILURE_BUDGET_IP: "3/600/900" };
    const guess = () =>
      callEnv("POST", "/v1/public/orders/lookup", {
        body: { order_id: co.order_id, password: "still wrong" },
        headers: { "cf-connecting-ip": "10.250.2.2" },
        env: tight,
      });
    expect([(await guess()).status, (await guess()).status, (await guess()).status]).toEqual([404, 404, 404]);
    const locked = await callEnv("POST", "/v1/public/orders/lookup", {
      body: { order_id: co.order_id, password: "a good password" },
      headers: { "cf-connecting-ip": "10.250.2.2" },
      env: tight,
    });
    expect(locked.status).toBe(429);
    expect(locked.json.error.code).toBe("too_many_failures");
    // Without a password chosen at checkout, no password opens the order.
    const bare = (await buy(shop.pk, product.id, 1)).json;
    expect((await lookup({ order_id: bare.order_id, password: "" })).status).toBe(400);
    expect((await lookup({ order_id: bare.order_id, password: "anything at all" })).status).toBe(404);
    expect((await lookup({ token: "vot1.ord_x.1.abc" })).status).toBe(400);
  });

  it("reveals the same codes to 20 concurrent taps and stamps the first reveal once", async () => {
    const product = await productWithCodes(3, { price: 300 });
    const shop = await shopChannel(product.id, 3);
    const co = (await buy(shop.pk, product.id, 3)).json;
    await pay(co);
    const results = await Promise.all(Array.from({ length: 20 }, () => reveal(co.order_token)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const sets = new Set(results.map((r) => JSON.stringify(r.json.items)));
    expect(sets.size).toBe(1);
    const codes = results[0].json.items[0].codes.map((k: any) => k.code);
    expect(new Set(codes).size).toBe(3);
    const first = await env.DB.prepare("SELECT revealed_at FROM order_access WHERE order_id = ?1")
      .bind(co.order_id)
      .first<{ revealed_at: number }>();
    await reveal(co.order_token);
    const again = await env.DB.prepare("SELECT revealed_at FROM order_access WHERE order_id = ?1")
      .bind(co.order_id)
      .first<{ revealed_at: number }>();
    expect(again!.revealed_at).toBe(first!.revealed_at);
  });
});
