/**
 * Direct top-up end to end: the real TOPUPS queue and its dead-letter queue, the Worker calling the fake
 * provider (scripts/fake-topup-provider.mjs, started by vitest.config.ts) over real HTTP, signed both ways.
 * Outcomes one by one: success, idempotency, definite failure, transient errors, pending, dead letter,
 * redelivery. Concurrency, input checks, provider notices and the pure rules: topups-edges.test.ts.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { channelAccount } from "../src/objects/channel-account";
import { call, eventually, idemKey } from "./helpers";
import {
  balanceOf,
  calls,
  channelWith,
  deliverTopups,
  eventCount,
  expectBooksBalance,
  getOrder,
  orderTopup,
  PRICE,
  projected,
  record,
  settled,
  topupProduct,
} from "./topup-fixtures";

let product: { id: string };
beforeAll(async () => {
  product = await topupProduct();
});

describe("direct top-up", { timeout: 120_000 }, () => {
  it("success: 202 processing, money committed on dispatch, then fulfilled; provider charged once with our sku and face value", async () => {
    const ch = await channelWith(product.id, 50_000);
    const res = await orderTopup(product.id, ch.key, "13800138000");
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({
      status: "processing",
      total_amount: PRICE,
      items: [{ product_id: product.id, quantity: 1 }],
    });
    const id = res.json.id;
    const done = await settled(id, ch.key);
    expect(done.json).toMatchObject({
      status: "fulfilled",
      topup: { status: "succeeded", account: "*******8000", attempts: 1, last_error: null },
    });
    expect(done.json.topup.provider_ref).toMatch(/^fp_\d+$/);
    expect(JSON.stringify(done.json)).not.toContain("13800138000");
    expect(await record(id)).toMatchObject({
      account: "13800138000",
      sku: "CM100",
      amount: 10_000,
      currency: "CNY",
      charges: 1,
      status: "succeeded",
    });
    const bal = await balanceOf(ch.id);
    expect(bal.balance).toBe(50_000 - PRICE);
    expect(bal.movements.filter((m: any) => m.order_id === id).map((m: any) => [m.kind, m.amount])).toEqual([
      ["order", -PRICE],
    ]);
    expectBooksBalance(bal, 50_000);
    await projected(id, "fulfilled");
    expect((await env.DB.prepare("SELECT status FROM orders WHERE id = ?1").bind(id).first<any>()).status).toBe(
      "fulfilled",
    );
    // A recharge cannot be taken back: refunding a delivered top-up is refused, the balance untouched.
    const refund = await call(
      "POST",
      `/v1/orders/${id}/refund`,
      { reason: "try" },
      { headers: { "idempotency-key": idemKey("rf") } },
    );
    expect(refund.json.error.code).toBe("not_refundable");
    expect((await balanceOf(ch.id)).balance).toBe(50_000 - PRICE);
  });

  it("the same Idempotency-Key replays the order; the provider is charged once", async () => {
    const ch = await channelWith(product.id, 50_000);
    const key = idemKey("same");
    const [a, b] = await Promise.all([
      orderTopup(product.id, ch.key, "13900001111", key),
      orderTopup(product.id, ch.key, "13900001111", key),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.json.id).toBe(b.json.id);
    await settled(a.json.id, ch.key);
    const again = await orderTopup(product.id, ch.key, "13900001111", key);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json).toMatchObject({ id: a.json.id, status: "fulfilled" });
    expect((await orderTopup(product.id, ch.key, "13900002222", key)).json.error.code).toBe("idempotency_mismatch");
    expect((await balanceOf(ch.id)).balance).toBe(50_000 - PRICE);
    expect(await record(a.json.id)).toMatchObject({ charges: 1, submissions: 1 });
  });

  it("definite failure: order failed, refunded to the balance exactly once, order.refunded emitted", async () => {
    const refundedBefore = await eventCount("order.refunded");
    const ch = await channelWith(product.id, 20_000);
    const res = await orderTopup(product.id, ch.key, "13800000000");
    expect(res.status).toBe(202);
    const done = await settled(res.json.id, ch.key);
    expect(done.json).toMatchObject({
      status: "failed",
      failure_reason: "topup_failed",
      topup: { status: "failed", last_error: "account_invalid", attempts: 1 },
    });
    const bal = await balanceOf(ch.id);
    expect(bal.balance).toBe(20_000);
    expect(
      bal.movements
        .filter((m: any) => m.order_id === res.json.id)
        .map((m: any) => [m.kind, m.amount])
        .sort(),
    ).toEqual([
      ["order", -PRICE],
      ["refund", PRICE],
    ]);
    expectBooksBalance(bal, 20_000);
    await projected(res.json.id, "failed");
    expect(
      await eventually(
        () => eventCount("order.refunded"),
        (n) => n === refundedBefore + 1,
      ),
    ).toBe(refundedBefore + 1);
    // Finance's list of refunds has it too (projected from order.refunded).
    const row = await eventually(
      () =>
        env.DB.prepare('SELECT amount, "to", was_fulfilled FROM refunds WHERE order_id = ?1').bind(res.json.id).first(),
      (r) => r !== null,
    );
    expect(row).toEqual({ amount: PRICE, to: "balance", was_fulfilled: 0 });
  });

  it("transient 503s are retried (status query first, then resubmit) until success; charged once", async () => {
    const ch = await channelWith(product.id, 20_000);
    const res = await orderTopup(product.id, ch.key, "13800009999");
    const done = await settled(res.json.id, ch.key);
    expect(done.json).toMatchObject({ status: "fulfilled", topup: { status: "succeeded", attempts: 3 } });
    expect(await calls(res.json.id, "submit")).toBe(3);
    expect(await calls(res.json.id, "query")).toBe(2);
    expect(await record(res.json.id)).toMatchObject({ charges: 1 });
    expect((await balanceOf(ch.id)).balance).toBe(20_000 - PRICE);
  });

  it("pending at the provider: the retry asks for the status and finishes without resubmitting", async () => {
    const ch = await channelWith(product.id, 20_000);
    const res = await orderTopup(product.id, ch.key, "13800008888");
    const done = await settled(res.json.id, ch.key);
    expect(done.json).toMatchObject({ status: "fulfilled", topup: { status: "succeeded", attempts: 2 } });
    expect(await calls(res.json.id, "submit")).toBe(1);
    expect(await record(res.json.id)).toMatchObject({ charges: 1, queries: 1 });
  });

  it("dead-letter path: after every retry, the DLQ pass asks once more, then fails and refunds once", async () => {
    const ch = await channelWith(product.id, 20_000);
    const res = await orderTopup(product.id, ch.key, "13800007777");
    const done = await settled(res.json.id, ch.key, 90_000);
    expect(done.json).toMatchObject({ status: "failed", topup: { status: "failed" } });
    expect(done.json.topup.attempts).toBeGreaterThanOrEqual(5);
    expect(done.json.topup.last_error).toMatch(/^gave up after \d+ attempts/);
    const bal = await balanceOf(ch.id);
    expect(bal.balance).toBe(20_000);
    expect(bal.movements.filter((m: any) => m.kind === "refund")).toHaveLength(1);
    expect(await record(res.json.id)).toBeUndefined(); // the provider never booked it
  });

  it("a redelivered message or a second consumer (main or dead-letter) never charges or refunds twice", async () => {
    const ch = await channelWith(product.id, 30_000);
    const ok = await orderTopup(product.id, ch.key, "13700001234");
    const bad = await orderTopup(product.id, ch.key, "13700000000");
    // Three deliveries of each at once: the real one from the queue plus two made here.
    const acks: string[] = [];
    const both = [ok.json.id, bad.json.id];
    await Promise.all([
      deliverTopups("voucher-topups", both, ch.id, acks),
      deliverTopups("voucher-topups", both, ch.id, acks),
    ]);
    await settled(ok.json.id, ch.key);
    await settled(bad.json.id, ch.key);
    // After the end: again, and through the dead-letter consumer too.
    await deliverTopups("voucher-topups", both, ch.id, acks);
    await deliverTopups("voucher-topups-dlq", both, ch.id, acks);
    expect(
      await channelAccount(env, ch.id).topupFinish(ok.json.id, { kind: "failed", provider_ref: null, reason: "late" }),
    ).toBe(false);
    expect(
      await channelAccount(env, ch.id).topupFinish(bad.json.id, { kind: "failed", provider_ref: null, reason: "late" }),
    ).toBe(false);
    expect((await getOrder(ok.json.id, ch.key)).json.status).toBe("fulfilled");
    const bal = await balanceOf(ch.id);
    expect(bal.balance).toBe(30_000 - PRICE);
    const kinds = bal.movements
      .filter((m: any) => m.order_id)
      .map((m: any) => `${m.order_id === ok.json.id ? "ok" : "bad"}:${m.kind}`)
      .sort();
    expect(kinds).toEqual(["bad:order", "bad:refund", "ok:order"]);
    expectBooksBalance(bal, 30_000);
    expect(await record(ok.json.id)).toMatchObject({ charges: 1 });
    expect(acks.filter((a) => a.startsWith("retry:"))).toEqual([]);
  });
});
