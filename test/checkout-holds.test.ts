/**
 * Checkout holds over time and under contention: an unpaid order cancelled at expiry, payments after it (late
 * fulfilment or a refund through the gateway), notices racing the expiry, no overselling, per-customer limits.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { channelAccount } from "../src/objects/channel-account";
import {
  checkout,
  checkoutStatus,
  eventCount,
  notify,
  paidData,
  publishableKey,
  sandboxNotice,
  shopChannel,
  stockOf,
} from "./gateway-counterparts/fixtures";
import { clockPast, eventually, productWithCodes } from "./helpers";
import { runAlarmNow } from "./pipeline-fixtures";

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

describe("per-customer limits", () => {
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
