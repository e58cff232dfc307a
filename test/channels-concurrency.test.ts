/** Money and quota invariants under concurrency, replenishment once per crossing, and a saga finished by its alarm. */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { channelAccount } from "../src/objects/channel-account";
import { skuPool } from "../src/objects/sku-pool";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";

const stockOf = async (productId: string) => (await call("GET", `/v1/products/${productId}/stock`)).json;
const quotaOf = (stock: any, channelId: string) =>
  stock.allocations.find((a: any) => a.channel_id === channelId)?.quota ?? 0;

describe("channels under concurrency", { timeout: 180_000 }, () => {
  it("a parent's quota never goes below zero, and allocations never exceed stock", async () => {
    const product = await productWithCodes(100);
    const parent = await createChannel("P", "agent");
    const parentKey = await keyFor(parent.id);
    const kids = [await createChannel("K1", "store", parent.id), await createChannel("K2", "store", parent.id)];
    await setEntry(parent.id, product.id, {});
    for (const k of kids) await setEntry(k.id, product.id, {});
    // Root → parent races against root's own unallocated stock: 30 moves of 5 into 100 codes.
    const fromRoot = await Promise.all(Array.from({ length: 30 }, () => allocate(product.id, parent.id, 5)));
    expect(fromRoot.filter((r) => r.status === 200)).toHaveLength(20);
    expect(fromRoot.filter((r) => r.status === 409).every((r) => r.json.error.code === "insufficient_quota")).toBe(
      true,
    );
    // Parent → children: 150 moves of 1 from a quota of 100.
    const moves = await Promise.all(
      Array.from({ length: 150 }, (_, i) => allocate(product.id, kids[i % 2].id, 1, parentKey)),
    );
    expect(moves.filter((r) => r.status === 200)).toHaveLength(100);
    const stock = await stockOf(product.id);
    expect(quotaOf(stock, parent.id)).toBe(0);
    expect(quotaOf(stock, kids[0].id) + quotaOf(stock, kids[1].id)).toBe(100);
    expect(stock.unallocated).toBe(0);
    expect((await allocate(product.id, kids[0].id, -1000, parentKey)).json.error.code).toBe("insufficient_quota");
  });

  it("concurrent orders from several channels: no oversell, no quota below zero, no balance below its credit limit, debits equal totals", async () => {
    const product = await productWithCodes(60, { price: 100 });
    const [a, b, c] = [
      await createChannel("A", "partner"),
      await createChannel("B", "partner"),
      await createChannel("C", "partner"),
    ];
    for (const ch of [a, b, c]) {
      await setEntry(ch.id, product.id, {});
      await allocate(product.id, ch.id, 20);
    }
    await topUp(a.id, 1500); // 15 orders
    await topUp(b.id, 1000); // 10 orders + credit for 5
    await call("PATCH", `/v1/channels/${b.id}`, { credit_limit: 500 });
    await topUp(c.id, 1_000_000);
    const keys = await Promise.all([a, b, c].map((ch) => keyFor(ch.id)));
    const results = await Promise.all(
      keys.flatMap((key, i) => Array.from({ length: 30 }, () => orderAs(key, product.id).then((r) => ({ i, r })))),
    );
    const okBy = [0, 1, 2].map((i) => results.filter((x) => x.i === i && x.r.status === 201));
    expect(okBy.map((x) => x.length)).toEqual([15, 15, 20]);
    const codes = okBy.flat().map((x) => x.r.json.items[0].codes[0].code);
    expect(new Set(codes).size).toBe(50);
    const refusals = results.filter((x) => x.r.status !== 201).map((x) => `${x.i}:${x.r.json.error.code}`);
    expect(new Set(refusals)).toEqual(
      new Set(["0:insufficient_balance", "1:insufficient_balance", "2:quota_exceeded"]),
    );
    const stock = await stockOf(product.id);
    expect(stock).toMatchObject({ issued: 50, available: 10 });
    expect([a, b, c].map((ch) => quotaOf(stock, ch.id))).toEqual([5, 5, 0]);
    for (const [i, ch] of [a, b, c].entries()) {
      const bal = (await call("GET", `/v1/channels/${ch.id}/balance?limit=100`)).json;
      expect(bal.reserved).toBe(0);
      expect(bal.balance).toBeGreaterThanOrEqual(-bal.credit_limit);
      const debits = bal.movements
        .filter((m: any) => m.kind === "order")
        .reduce((s: number, m: any) => s + m.amount, 0);
      expect(-debits).toBe(okBy[i].reduce((s, x) => s + x.r.json.total_amount, 0));
    }
  });

  it("refills from the parent once per crossing, then raises stock.low once", async () => {
    const product = await productWithCodes(40, { price: 10 });
    const parent = await createChannel("Province", "agent");
    const parentKey = await keyFor(parent.id);
    const store = await createChannel("Store", "store", parent.id);
    await setEntry(parent.id, product.id, {});
    await setEntry(store.id, product.id, { low_water: 3, refill: 5 }, parentKey);
    await allocate(product.id, parent.id, 12);
    await allocate(product.id, store.id, 5, parentKey); // parent keeps 7
    await topUp(store.id, 10_000, parentKey);
    const storeKey = await keyFor(store.id);
    // 5 → 2 crosses the mark: one refill of 5 (parent 7 → 2), store back to 7.
    await Promise.all(Array.from({ length: 3 }, () => orderAs(storeKey, product.id)));
    let stock = await stockOf(product.id);
    expect([quotaOf(stock, store.id), quotaOf(stock, parent.id)]).toEqual([7, 2]);
    // 7 → 0 crosses again: the parent has 2 < 5, so one stock.low, however many orders follow.
    const burst = await Promise.all(Array.from({ length: 10 }, () => orderAs(storeKey, product.id)));
    expect(burst.filter((r) => r.status === 201)).toHaveLength(7);
    stock = await stockOf(product.id);
    expect([quotaOf(stock, store.id), quotaOf(stock, parent.id)]).toEqual([0, 2]);
    const events = await eventually(
      () =>
        env.DB.prepare("SELECT type FROM stock_events WHERE channel_id = ?1 ORDER BY created_at")
          .bind(store.id)
          .all<{ type: string }>(),
      (r) => r.results.length >= 2,
    );
    expect(events.results.map((r) => r.type)).toEqual(["stock.refilled", "stock.low"]);
    expect((await stockOf(product.id)).alerts.map((a: any) => a.type)).toEqual(["stock.low", "stock.refilled"]);
  });

  it("a saga left half-way by a crash is finished by the alarm, charging once", async () => {
    const product = await productWithCodes(10, { price: 250 });
    const ch = await createChannel("Crashy", "partner");
    await setEntry(ch.id, product.id, {});
    await allocate(product.id, ch.id, 10);
    await topUp(ch.id, 10_000);
    const account = channelAccount(env, ch.id);
    const ref = { productId: product.id, shard: 0 };
    const line = {
      product_id: product.id,
      quantity: 2,
      unit_price: 250,
      currency: "CNY",
      validity: { type: "none" as const },
      shards: 1,
      per_customer_max: null,
      per_customer_window_days: null,
      shard: null,
    };
    // Two crashed orders: one after the money was reserved, one after the pool had issued too.
    for (const [id, issued] of [
      ["ord_crash1", false],
      ["ord_crash2", true],
    ] as const) {
      await runInDurableObject(account, (_o, state) => {
        const sql = state.storage.sql;
        const old = Date.now() - 60_000;
        const record = {
          id,
          channel_id: ch.id,
          status: "pending",
          customer_ref: null,
          external_ref: null,
          currency: "CNY",
          total_amount: 500,
          lines: [line],
          failure_reason: null,
          funds: "reserved",
          created_at: old,
          updated_at: old,
        };
        sql.exec(
          "INSERT INTO idempotency (key, request_hash, order_id, created_at) VALUES (?, 'h', ?, ?)",
          `key-${id}`,
          id,
          old,
        );
        sql.exec(
          "INSERT INTO orders (id, status, record, updated_at) VALUES (?, 'pending', ?, ?)",
          id,
          JSON.stringify(record),
          old,
        );
        sql.exec("UPDATE account SET reserved = reserved + 500 WHERE id = 1");
      });
      if (issued)
        await skuPool(env, ref).issue(ref, {
          orderId: id,
          line: 0,
          quantity: 2,
          channelId: ch.id,
          validity: { type: "none" },
        });
    }
    // The channel's own alarm (armed by the top-up) may already be finishing them; if not, run it now, until they are.
    const bal = (
      await eventually(
        async () => {
          await runDurableObjectAlarm(account);
          return call("GET", `/v1/channels/${ch.id}/balance`);
        },
        (r) => r.json?.reserved === 0,
      )
    ).json;
    expect(bal).toMatchObject({ reserved: 0, balance: 9000 });
    expect(await skuPool(env, ref).stock(ref)).toMatchObject({ issued: 4, available: 6 });
    const key = await keyFor(ch.id);
    for (const id of ["ord_crash1", "ord_crash2"]) {
      const o = await call("GET", `/v1/orders/${id}`, undefined, { token: key });
      expect(o.json.status).toBe("fulfilled");
      expect(o.json.items[0].codes).toHaveLength(2);
    }
    // Running the alarm again changes nothing.
    await runDurableObjectAlarm(account);
    expect((await call("GET", `/v1/channels/${ch.id}/balance`)).json).toMatchObject({ reserved: 0, balance: 9000 });
  });
});
