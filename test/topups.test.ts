/**
 * Direct top-up end to end: the real TOPUPS queue and its dead-letter queue, the Worker calling the fake
 * provider (scripts/fake-topup-provider.mjs, started by vitest.config.ts) over real HTTP, signed both ways.
 */
import { env } from "cloudflare:workers";
import { createHmac } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { classify, maskAccount, parseOutTradeNo, retryDelaySeconds, validAccount } from "../src/domain/topup";
import { channelAccount } from "../src/objects/channel-account";
import { handleTopups } from "../src/queues/topups";
import { createChannel, keyFor, setEntry, topUp } from "./channel-fixtures";
import { call, createProduct, eventually, idemKey } from "./helpers";

const FAKE = (env as any).TOPUP_PROVIDER_URL as string;
const SECRET = (env as any).TOPUP_PROVIDER_SECRET as string;
const PRICE = 9_800;
let product: { id: string };

const fake = async (path: string, body?: unknown) =>
  (await fetch(`${FAKE}${path}`, body ? { method: "POST", body: JSON.stringify(body) } : {})).json() as Promise<any>;
const record = async (orderId: string) =>
  (await fake("/_log")).records.find((r: any) => r.out_trade_no === `${orderId}-0`);
const calls = async (orderId: string, type: string) =>
  (await fake("/_log")).calls.filter((c: any) => c.out_trade_no === `${orderId}-0` && c.type === type).length;

async function channelWith(balance: number) {
  const ch = await createChannel(`Topup ${idemKey("c")}`, "partner");
  await setEntry(ch.id, product.id, {});
  if (balance) await topUp(ch.id, balance);
  return { id: ch.id, key: await keyFor(ch.id) };
}
const orderTopup = (
  token: string | undefined,
  account: unknown,
  key = idemKey("tu"),
  extra: Record<string, unknown> = {},
) =>
  call(
    "POST",
    "/v1/orders",
    { items: [{ product_id: product.id, quantity: 1, account, ...extra }] },
    { token, headers: { "idempotency-key": key } },
  );
const getOrder = (id: string, token?: string) => call("GET", `/v1/orders/${id}`, undefined, { token });
const settled = (id: string, token?: string, timeoutMs = 30_000) =>
  eventually(
    () => getOrder(id, token),
    (r) => r.json?.topup?.status !== "processing" && r.json?.status !== "processing",
    timeoutMs,
  );
const balanceOf = async (channelId: string) => (await call("GET", `/v1/channels/${channelId}/balance?limit=100`)).json;
const projected = (id: string, status: string) =>
  eventually(
    () => env.DB.prepare("SELECT status FROM orders WHERE id = ?1").bind(id).first<{ status: string }>(),
    (r) => r?.status === status,
  );
const eventCount = async (type: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM processed_events WHERE type = ?1")
    .bind(type)
    .first<{ n: number }>())!.n;

/** Every movement of the channel adds up to its balance, and the balance never went below zero. */
function expectBooksBalance(bal: any, start: number) {
  expect(bal.reserved).toBe(0);
  expect(bal.movements.reduce((s: number, m: any) => s + (m.kind === "credit_limit" ? 0 : m.amount), 0)).toBe(
    bal.balance,
  );
  expect(bal.movements.every((m: any) => m.balance_after >= 0)).toBe(true);
  expect(bal.balance).toBeGreaterThanOrEqual(0);
  expect(bal.balance).toBeLessThanOrEqual(start);
}

beforeAll(async () => {
  product = await createProduct({
    kind: "topup",
    name: "China Mobile 100",
    price: PRICE,
    face_value: 10_000,
    currency: "CNY",
    metadata: { provider_sku: "CM100" },
  });
  await fake("/_control", { fail_times: 2 });
});

describe("direct top-up", { timeout: 120_000 }, () => {
  it("success: 202 processing, money committed on dispatch, then fulfilled; provider charged once with our sku and face value", async () => {
    const ch = await channelWith(50_000);
    const res = await orderTopup(ch.key, "13800138000");
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
    const ch = await channelWith(50_000);
    const key = idemKey("same");
    const [a, b] = await Promise.all([orderTopup(ch.key, "13900001111", key), orderTopup(ch.key, "13900001111", key)]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.json.id).toBe(b.json.id);
    await settled(a.json.id, ch.key);
    const again = await orderTopup(ch.key, "13900001111", key);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json).toMatchObject({ id: a.json.id, status: "fulfilled" });
    expect((await orderTopup(ch.key, "13900002222", key)).json.error.code).toBe("idempotency_mismatch");
    expect((await balanceOf(ch.id)).balance).toBe(50_000 - PRICE);
    expect(await record(a.json.id)).toMatchObject({ charges: 1, submissions: 1 });
  });

  it("definite failure: order failed, refunded to the balance exactly once, order.refunded emitted", async () => {
    const refundedBefore = await eventCount("order.refunded");
    const ch = await channelWith(20_000);
    const res = await orderTopup(ch.key, "13800000000");
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
    const ch = await channelWith(20_000);
    const res = await orderTopup(ch.key, "13800009999");
    const done = await settled(res.json.id, ch.key);
    expect(done.json).toMatchObject({ status: "fulfilled", topup: { status: "succeeded", attempts: 3 } });
    expect(await calls(res.json.id, "submit")).toBe(3);
    expect(await calls(res.json.id, "query")).toBe(2);
    expect(await record(res.json.id)).toMatchObject({ charges: 1 });
    expect((await balanceOf(ch.id)).balance).toBe(20_000 - PRICE);
  });

  it("pending at the provider: the retry asks for the status and finishes without resubmitting", async () => {
    const ch = await channelWith(20_000);
    const res = await orderTopup(ch.key, "13800008888");
    const done = await settled(res.json.id, ch.key);
    expect(done.json).toMatchObject({ status: "fulfilled", topup: { status: "succeeded", attempts: 2 } });
    expect(await calls(res.json.id, "submit")).toBe(1);
    expect(await record(res.json.id)).toMatchObject({ charges: 1, queries: 1 });
  });

  it("dead-letter path: after every retry, the DLQ pass asks once more, then fails and refunds once", async () => {
    const ch = await channelWith(20_000);
    const res = await orderTopup(ch.key, "13800007777");
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
    const ch = await channelWith(30_000);
    const ok = await orderTopup(ch.key, "13700001234");
    const bad = await orderTopup(ch.key, "13700000000");
    // Three deliveries of each at once: the real one from the queue plus two made here.
    const acks: string[] = [];
    const batch = (queue: string, ids: string[]) =>
      ({
        queue,
        messages: ids.map((order_id) => ({
          id: order_id,
          timestamp: new Date(),
          attempts: 1,
          body: { order_id, channel_id: ch.id },
          ack: () => acks.push(order_id),
          retry: () => acks.push(`retry:${order_id}`),
        })),
        ackAll() {},
        retryAll() {},
      }) as unknown as MessageBatch<unknown>;
    await Promise.all([
      handleTopups(batch("voucher-topups", [ok.json.id, bad.json.id]), env),
      handleTopups(batch("voucher-topups", [ok.json.id, bad.json.id]), env),
    ]);
    await settled(ok.json.id, ch.key);
    await settled(bad.json.id, ch.key);
    // After the end: again, and through the dead-letter consumer too.
    await handleTopups(batch("voucher-topups", [ok.json.id, bad.json.id]), env);
    await handleTopups(batch("voucher-topups-dlq", [ok.json.id, bad.json.id]), env);
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

  it("30 top-ups at once with money for 20: no balance below zero, each order ends fulfilled or refunded, books balance", async () => {
    const ch = await channelWith(20 * PRICE);
    const accounts = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0 ? `1360${String(i).padStart(3, "0")}0000` : `1361${String(i).padStart(7, "0")}`,
    );
    const results = await Promise.all(accounts.map((a) => orderTopup(ch.key, a)));
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
    const res = await orderTopup(undefined, "user@example.com");
    expect(res.status).toBe(202);
    const done = await settled(res.json.id);
    expect(done.json).toMatchObject({
      status: "fulfilled",
      topup: { status: "succeeded", account: "************.com" },
    });
  });

  it("refuses bad accounts (400) and top-up shapes it does not support (422)", async () => {
    const ch = await channelWith(10_000);
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
      const res = await orderTopup(ch.key, bad);
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
    expect((await orderTopup(ch.key, "13800138000", idemKey(), { quantity: 2 })).json.error.code).toBe(
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
    const ch = await channelWith(20_000);
    const res = await orderTopup(ch.key, "13800017777"); // the provider keeps answering 503 to the queue consumer
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
    // The consumer's later deliveries and the dead-letter pass find it done: no refund.
    await new Promise((r) => setTimeout(r, 3_000));
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
