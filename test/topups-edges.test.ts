/**
 * Direct top-ups beyond single outcomes: many at once against a small balance, root orders, refused accounts
 * and shapes, the provider's signed notices, and the pure rules (account checks, answer classification,
 * backoff). One outcome at a time: topups.test.ts.
 */
import { createHmac } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { classify, maskAccount, parseOutTradeNo, retryDelaySeconds, validAccount } from "../src/domain/topup";
import { call, createProduct, idemKey } from "./helpers";
import {
  balanceOf,
  channelWith,
  deliverTopups,
  expectBooksBalance,
  getOrder,
  orderTopup,
  PRICE,
  projected,
  SECRET,
  settled,
  topupProduct,
} from "./topup-fixtures";

let product: { id: string };
beforeAll(async () => {
  product = await topupProduct();
});

describe("direct top-up at the edges", { timeout: 120_000 }, () => {
  it("30 top-ups at once with money for 20: no balance below zero, each order ends fulfilled or refunded, books balance", async () => {
    const ch = await channelWith(product.id, 20 * PRICE);
    const accounts = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0 ? `1360${String(i).padStart(3, "0")}0000` : `1361${String(i).padStart(7, "0")}`,
    );
    const results = await Promise.all(accounts.map((a) => orderTopup(product.id, ch.key, a)));
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status !== 202);
    expect(refused.every((r) => r.status === 409 && r.json.error.code === "insufficient_balance")).toBe(true);
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    const finals = await Promise.all(accepted.map((r) => settled(r.json.id, ch.key, 60_000)));
    expect(finals.every((f) => ["fulfilled", "failed"].includes(f.json.status))).toBe(true);
    const fulfilled = finals.filter((f) => f.json.status === "fulfilled").length;
    const bal = await balanceOf(ch.id);
    expect(bal.balance).toBe(20 * PRICE - fulfilled * PRICE);
    expect(bal.movements.filter((m: any) => m.kind === "refund")).toHaveLength(finals.length - fulfilled);
    expectBooksBalance(bal, 20 * PRICE);
  });

  it("root orders pay nothing and are fulfilled the same way", async () => {
    const res = await orderTopup(product.id, undefined, "user@example.com");
    expect(res.status).toBe(202);
    const done = await settled(res.json.id);
    expect(done.json).toMatchObject({
      status: "fulfilled",
      topup: { status: "succeeded", account: "************.com" },
    });
  });

  it("refuses bad accounts (400) and top-up shapes it does not support (422)", async () => {
    const ch = await channelWith(product.id, 10_000);
    for (const bad of [
      "",
      " 138",
      "138 ",
      "13a  b",
      "a\u0000b",
      "a\nb",
      "a\tb",
      "\u200b138",
      "\u202e138",
      "x".repeat(65),
      13800138000,
      null,
      ["1"],
    ]) {
      const res = await orderTopup(product.id, ch.key, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect(
      (
        await call(
          "POST",
          "/v1/orders",
          { items: [{ product_id: product.id, quantity: 1 }] },
          { token: ch.key, headers: { "idempotency-key": idemKey() } },
        )
      ).json.error.code,
    ).toBe("account_required");
    expect((await orderTopup(product.id, ch.key, "13800138000", idemKey(), { quantity: 2 })).json.error.code).toBe(
      "topup_single_item",
    );
    const code = await createProduct({ name: "Code product" });
    const mixed = await call(
      "POST",
      "/v1/orders",
      { items: [{ product_id: code.id, quantity: 1, account: "13800138000" }] },
      { headers: { "idempotency-key": idemKey() } },
    );
    expect(mixed.status).toBe(422);
    expect(mixed.json.error.code).toBe("account_not_allowed");
    expect((await balanceOf(ch.id)).balance).toBe(10_000);
  });

  it("provider notice: signed ones finish the order early and idempotently; bad signatures are 401", async () => {
    const ch = await channelWith(product.id, 20_000);
    const res = await orderTopup(product.id, ch.key, "13800017777"); // the provider keeps answering 503 to the queue consumer
    const id = res.json.id;
    await projected(id, "processing");
    const notice = JSON.stringify({ out_trade_no: `${id}-0`, status: "succeeded", provider_ref: "up_42" });
    const signedHeaders = (body: string, ts = Math.floor(Date.now() / 1000)) => ({
      "content-type": "application/json",
      "x-provider-timestamp": String(ts),
      "x-provider-signature": createHmac("sha256", SECRET).update(`${ts}.${body}`).digest("hex"),
    });
    const post = (body: string, headers: Record<string, string>) =>
      call("POST", "/v1/public/topup/notify", undefined, { token: null, raw: body, headers });
    expect((await post(notice, { ...signedHeaders(notice), "x-provider-signature": "0".repeat(64) })).status).toBe(401);
    expect((await post(notice, signedHeaders(notice, Math.floor(Date.now() / 1000) - 900))).status).toBe(401);
    expect((await post(notice.replace("up_42", "up_43"), signedHeaders(notice))).status).toBe(401);
    const first = await post(notice, signedHeaders(notice));
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ ok: true, applied: true });
    expect((await post(notice, signedHeaders(notice))).json).toEqual({ ok: true, applied: false });
    const order = (await getOrder(id, ch.key)).json;
    expect(order).toMatchObject({ status: "fulfilled", topup: { status: "succeeded", provider_ref: "up_42" } });
    const unknown = JSON.stringify({ out_trade_no: "ord_0000000000zzzzzzzzzzzzzzzz-0", status: "failed" });
    expect((await post(unknown, signedHeaders(unknown))).status).toBe(404);
    // The consumer's later deliveries and the dead-letter pass must find it done: no refund. They cannot be awaited
    // (nothing records a delivery that finds the order done), so make them here, once each, right after the notice.
    const acks: string[] = [];
    await deliverTopups("voucher-topups", [id], ch.id, acks);
    await deliverTopups("voucher-topups-dlq", [id], ch.id, acks);
    expect(acks).toEqual([id, id]);
    const bal = await balanceOf(ch.id);
    expect(bal.balance).toBe(20_000 - PRICE);
    expect(bal.movements.filter((m: any) => m.kind === "refund")).toHaveLength(0);
  });
});

describe("top-up rules (pure)", () => {
  it("accounts: printable, bounded, no control/invisible characters; masked to the last 4", () => {
    for (const ok of ["13800138000", "user@example.com", "uid 12345", "玩家ID-88", "a"])
      expect(validAccount(ok), ok).toBe(true);
    for (const bad of ["", " a", "a ", "a  b", "a\u0000", "a\u007f", "\u200bab", "a\u2028b", "x".repeat(65)])
      expect(validAccount(bad), JSON.stringify(bad)).toBe(false);
    expect(maskAccount("13800138000")).toBe("*******8000");
    expect(maskAccount("abc")).toBe("***");
  });

  it("only a signed answer about the same out_trade_no counts; everything else is retried", () => {
    const reply = (status: any) => ({ out_trade_no: "ord_a-0", status, provider_ref: "r" });
    expect(classify(200, reply("succeeded"), "ord_a-0", true)).toEqual({ kind: "succeeded", provider_ref: "r" });
    expect(classify(200, reply("failed"), "ord_a-0", true)).toMatchObject({ kind: "failed" });
    expect(classify(404, reply("not_found"), "ord_a-0", true)).toEqual({ kind: "unknown" });
    expect(classify(200, reply("pending"), "ord_a-0", true).kind).toBe("retry");
    expect(classify(200, reply("succeeded"), "ord_a-0", false).kind).toBe("retry");
    expect(classify(200, reply("failed"), "ord_b-0", true).kind).toBe("retry");
    expect(classify(200, null, "ord_a-0", true).kind).toBe("retry");
  });

  it("backoff grows, is scaled (0 in tests) and capped; out_trade_no round-trips", () => {
    const delays = Array.from({ length: 10 }, (_, i) => retryDelaySeconds(i + 1, 1));
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays[0]).toBe(10);
    expect(retryDelaySeconds(3, 0)).toBe(0);
    expect(retryDelaySeconds(50, 100)).toBe(43_200);
    expect(parseOutTradeNo("ord_01abc-0")).toEqual({ orderId: "ord_01abc", line: 0 });
    expect(parseOutTradeNo("ord_01abc")).toBeNull();
  });
});
