/** POST /v1/orders/{id}/refund: voids the codes, returns the money (gateway or balance), once. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { allocate, createChannel, keyFor, setEntry, topUp } from "./channel-fixtures";
import {
  checkout,
  checkoutStatus,
  eventCount,
  notify,
  sandboxNotice,
  shopChannel,
  stockOf,
} from "./gateway-counterparts/fixtures";
import { call, eventually, idemKey, order, productWithCodes } from "./helpers";

const refund = (orderId: string, reason = "customer asked", key = idemKey("rf"), token?: string) =>
  call("POST", `/v1/orders/${orderId}/refund`, { reason }, { token, headers: { "idempotency-key": key } });

async function paidCheckout(price = 1500, quantity = 1) {
  const product = await productWithCodes(quantity + 2, { price });
  const shop = await shopChannel(product.id, quantity + 2);
  const co = (await checkout(shop.pk, [{ product_id: product.id, quantity }])).json;
  const n = await sandboxNotice({
    order_id: co.order_id,
    payment_id: co.payment.payment_id,
    amount: co.amount,
    currency: co.currency,
  });
  expect((await notify("sandbox", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("accepted");
  return { product, shop, co };
}

async function balanceOrder(price = 1000) {
  const product = await productWithCodes(3, { price });
  const ch = await createChannel(`reseller ${Math.random()}`, "partner");
  await setEntry(ch.id, product.id, {});
  await allocate(product.id, ch.id, 3);
  await topUp(ch.id, 5000);
  const token = await keyFor(ch.id);
  const res = await order([{ product_id: product.id, quantity: 1 }], {}, idemKey(), token);
  expect(res.status).toBe(201);
  // The merchant finds a descendant's order through the D1 projection, written by the queue a moment later.
  await eventually(
    () => env.DB.prepare("SELECT id FROM orders WHERE id = ?1").bind(res.json.id).first(),
    (r) => r !== null,
  );
  return { product, channelId: ch.id, token, order: res.json };
}

describe("refunds", () => {
  it("a gateway order: codes voided, refunded through the gateway, order.refunded once; the same key replays", async () => {
    const { product, shop, co } = await paidCheckout(1500, 2);
    const before = await eventCount(shop.id);
    const key = idemKey("rf");
    const res = await refund(co.order_id, "changed mind", key);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      object: "refund",
      amount: 3000,
      currency: "CNY",
      to: "gateway",
      gateway: "sandbox",
      was_fulfilled: true,
      reason: "changed mind",
    });
    expect(res.json.id).toMatch(/^rfd_/);
    expect(res.json.order.status).toBe("refunded");
    expect(await stockOf(product.id)).toMatchObject({ voided: 2, issued: 0 });
    expect(await eventCount(shop.id)).toBe(before + 1);
    const again = await refund(co.order_id, "changed mind", key);
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(res.json.id);
    expect((await refund(co.order_id, "another reason", key)).status).toBe(409);
    expect((await refund(co.order_id)).json.error.code).toBe("already_refunded");
    expect((await checkoutStatus(shop.pk, co.order_id, co.client_secret)).json.status).toBe("refunded");
    // Finance's list gets the refund from its order.refunded event (the one writer of D1 refunds).
    expect(
      await eventually(
        () => env.DB.prepare('SELECT "to", was_fulfilled FROM refunds WHERE order_id = ?1').bind(co.order_id).first(),
        (r) => r !== null,
      ),
    ).toEqual({ to: "gateway", was_fulfilled: 1 });
  });

  it("a balance order: the money goes back to the channel's balance as a refund movement", async () => {
    const { channelId, order: o } = await balanceOrder(1000);
    const before = await call("GET", `/v1/channels/${channelId}/balance`);
    const res = await refund(o.id);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ to: "balance", amount: 1000, was_fulfilled: true });
    const after = await call("GET", `/v1/channels/${channelId}/balance`);
    expect(after.json.balance).toBe(before.json.balance + 1000);
    expect(after.json.movements[0]).toMatchObject({ kind: "refund", amount: 1000, order_id: o.id });
  });

  it("a redeemed code: 409 code_redeemed and nothing changes", async () => {
    const { product, shop, co } = await paidCheckout(800, 2);
    const codes = (await checkoutStatus(shop.pk, co.order_id, co.client_secret)).json.items[0].codes;
    expect((await call("POST", "/v1/redemptions", { code: codes[1].code })).status).toBe(201);
    const res = await refund(co.order_id);
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("code_redeemed");
    expect(await stockOf(product.id)).toMatchObject({ voided: 0, issued: 1, redeemed: 1 });
    expect((await checkoutStatus(shop.pk, co.order_id, co.client_secret)).json.status).toBe("fulfilled");
  });

  it("ten refunds of one order at once: exactly one succeeds, the money goes back once", async () => {
    const { channelId, order: o, product } = await balanceOrder(700);
    const before = (await call("GET", `/v1/channels/${channelId}/balance`)).json.balance;
    const results = await Promise.all(Array.from({ length: 10 }, () => refund(o.id)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(
      results
        .filter((r) => r.status === 409)
        .map((r) => r.json.error.code)
        .every((c) => c === "refund_in_progress" || c === "already_refunded"),
    ).toBe(true);
    expect((await call("GET", `/v1/channels/${channelId}/balance`)).json.balance).toBe(before + 700);
    expect(await stockOf(product.id)).toMatchObject({ voided: 1 });
  });

  it("a refund racing a redemption of the order's code: never both", async () => {
    for (let round = 0; round < 3; round++) {
      const { shop, co } = await paidCheckout(300, 1);
      const code = (await checkoutStatus(shop.pk, co.order_id, co.client_secret)).json.items[0].codes[0].code;
      const [r, d] = await Promise.all([refund(co.order_id), call("POST", "/v1/redemptions", { code })]);
      expect([r.status === 200, d.status === 201].filter(Boolean)).toHaveLength(1);
      const status = (await checkoutStatus(shop.pk, co.order_id, co.client_secret)).json.status;
      expect(status).toBe(r.status === 200 ? "refunded" : "fulfilled");
    }
  });

  it("refusals: scope, other subtrees, unpaid and root orders", async () => {
    const { order: o, token } = await balanceOrder(500);
    const readOnly = await keyFor("chn_root", ["orders:read"]);
    expect((await refund(o.id, "x", idemKey(), readOnly)).status).toBe(403);
    const stranger = await createChannel(`stranger ${Math.random()}`, "partner");
    const strangerKey = await keyFor(stranger.id);
    // Refunds are the merchant's: a channel key never holds refunds:write, not even for its own orders.
    expect((await refund(o.id, "x", idemKey(), strangerKey)).json.error.code).toBe("forbidden");
    expect((await refund(o.id, "own", idemKey(), token)).json.error.code).toBe("forbidden");
    expect((await call("POST", `/v1/channels/${stranger.id}/keys`, { scopes: ["refunds:write"] })).status).toBe(403);
    expect((await refund("ord_unknown000000000000000000")).status).toBe(404);
    expect((await refund(o.id, "merchant")).status).toBe(200);
    const rootProduct = await productWithCodes(1, { price: 100 });
    const rootOrder = (await order([{ product_id: rootProduct.id, quantity: 1 }])).json;
    expect((await refund(rootOrder.id)).status).toBe(422);
    const pending = await productWithCodes(1, { price: 100 });
    const shop = await shopChannel(pending.id, 1);
    const co = (await checkout(shop.pk, [{ product_id: pending.id, quantity: 1 }])).json;
    expect((await refund(co.order_id)).json.error.code).toBe("not_refundable");
    expect((await call("POST", `/v1/orders/${co.order_id}/refund`, { reason: "x" })).status).toBe(400); // Idempotency-Key required
  });
});
