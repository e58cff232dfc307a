/** The SkuPool through its RPC methods, alarm and storage. */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type PoolRef, skuPool } from "../src/objects/sku-pool";
import { createProduct, eventually, generate } from "./helpers";
import { runAlarmNow } from "./pipeline-fixtures";

async function pool(n: number): Promise<{ ref: PoolRef; stub: ReturnType<typeof skuPool> }> {
  const p = await createProduct();
  await generate(p.id, n);
  const ref = { productId: p.id, shard: 0 };
  return { ref, stub: skuPool(env, ref) };
}
const none = { type: "none" } as const;
const outboxSize = (stub: ReturnType<typeof skuPool>) =>
  runInDurableObject(
    stub,
    (_o, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n,
  );
/** Runs the pool's alarm until its outbox is empty (its own alarm may be the one that empties it); returns the size left. */
const outboxEmptied = (stub: ReturnType<typeof skuPool>) =>
  eventually(
    async () => {
      await runDurableObjectAlarm(stub);
      return outboxSize(stub);
    },
    (n) => n === 0,
  );

describe("SkuPool", () => {
  it("issues idempotently by order line", async () => {
    const { ref, stub } = await pool(5);
    const a = await stub.issue(ref, { orderId: "ord_x1", line: 0, quantity: 2, channelId: "chn_root", validity: none });
    const b = await stub.issue(ref, { orderId: "ord_x1", line: 0, quantity: 2, channelId: "chn_root", validity: none });
    expect(a).toEqual(b);
    expect(await stub.stock(ref)).toMatchObject({ issued: 2, available: 3 });
    expect(await stub.returnOrder(ref, "ord_x1")).toEqual({ returned: 2 });
    expect(
      await stub.issue(ref, { orderId: "ord_x1", line: 0, quantity: 2, channelId: "chn_root", validity: none }),
    ).toEqual({ ok: false, reason: "order_returned" });
    expect(await stub.stock(ref)).toMatchObject({ issued: 0, available: 5 });
  });

  it("once an order was returned, no line of it issues again and a confirmed hold of it no longer counts", async () => {
    const { ref, stub } = await pool(6);
    expect(await stub.hold(ref, { holdId: "hld_r1", quantity: 2, ttlMs: 60_000, channelId: "chn_root" })).toMatchObject(
      { ok: true },
    );
    const confirm = () => stub.confirmHold(ref, { holdId: "hld_r1", orderId: "ord_r1", line: 0, validity: none });
    expect(await confirm()).toMatchObject({ ok: true });
    // Line 1 of the same order failed elsewhere: the order is returned (a crash may then replay the fulfilment).
    expect(await stub.returnOrder(ref, "ord_r1")).toEqual({ returned: 2 });
    expect(await confirm()).toEqual({ ok: false, reason: "hold_expired" });
    expect(
      await stub.issue(ref, { orderId: "ord_r1", line: 1, quantity: 1, channelId: "chn_root", validity: none }),
    ).toEqual({ ok: false, reason: "order_returned" });
    expect(await stub.returnOrder(ref, "ord_r2")).toEqual({ returned: 0 }); // a marker only
    expect(
      await stub.issue(ref, { orderId: "ord_r2", line: 0, quantity: 1, channelId: "chn_root", validity: none }),
    ).toEqual({ ok: false, reason: "order_returned" });
    expect(await stub.stock(ref)).toMatchObject({ issued: 0, available: 6 });
  });

  it("holds codes until confirmed, released or expired by the alarm", async () => {
    const { ref, stub } = await pool(6);
    expect(await stub.hold(ref, { holdId: "hld_a", quantity: 2, ttlMs: 60_000, channelId: "chn_root" })).toMatchObject({
      ok: true,
    });
    expect(await stub.hold(ref, { holdId: "hld_b", quantity: 2, ttlMs: 60_000, channelId: "chn_root" })).toMatchObject({
      ok: true,
    });
    expect(await stub.hold(ref, { holdId: "hld_c", quantity: 5, ttlMs: 60_000, channelId: "chn_root" })).toMatchObject({
      ok: false,
      reason: "out_of_stock",
      available: 2,
    });
    expect(await stub.stock(ref)).toMatchObject({ held: 4, available: 2 });
    // hld_b runs out: its expiry is moved into the past (instead of a short TTL and a sleep, which a slow
    // machine could outrun between the holds above), then the alarm runs.
    await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec("UPDATE holds SET expires_at = ? WHERE hold_id = 'hld_b'", Date.now() - 1),
    );
    await runAlarmNow(stub);
    expect(await stub.stock(ref)).toMatchObject({ held: 2, available: 4 });
    expect(await stub.confirmHold(ref, { holdId: "hld_b", orderId: "ord_b", line: 0, validity: none })).toEqual({
      ok: false,
      reason: "hold_expired",
    });
    const confirmed = await stub.confirmHold(ref, { holdId: "hld_a", orderId: "ord_a", line: 0, validity: none });
    expect(confirmed.ok && confirmed.codes).toHaveLength(2);
    expect(await stub.confirmHold(ref, { holdId: "hld_a", orderId: "ord_a", line: 0, validity: none })).toEqual(
      confirmed,
    );
    expect(await stub.hold(ref, { holdId: "hld_d", quantity: 1, ttlMs: 60_000, channelId: "chn_root" })).toMatchObject({
      ok: true,
    });
    expect(await stub.releaseHold(ref, "hld_d")).toEqual({ released: 1 });
    expect(await stub.stock(ref)).toMatchObject({ held: 0, issued: 2, available: 4 });
  });

  it("writes each change's event to the outbox and the alarm empties it", async () => {
    const { ref, stub } = await pool(3);
    await stub.issue(ref, { orderId: "ord_o", line: 0, quantity: 1, channelId: "chn_root", validity: none });
    const pending = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec<{ type: string; body: string }>("SELECT type, body FROM outbox").toArray(),
    );
    // The alarm may already have flushed; whatever is still pending is a well-formed event without plaintext.
    for (const row of pending)
      expect(JSON.parse(row.body)).toMatchObject({ type: row.type, source: `sku:${ref.productId}:0` });
    // Run the alarm (unless its own run is under way, or already emptied it) until the outbox is empty.
    expect(await outboxEmptied(stub)).toBe(0);
  });

  it("keeps the outbox when the queue send fails, and sends it later", async () => {
    const { stub } = await pool(2);
    expect(await outboxEmptied(stub)).toBe(0); // the generation's events are sent: only this test's event is left
    const result = await runInDurableObject(stub, async (instance, state) => {
      const { recordEvent, flushOutbox } = await import("../src/objects/outbox");
      const count = () => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
      const before = count();
      recordEvent(state.storage.sql, "test", "test.event", { n: 1 });
      const failing = {
        sendBatch: async () => {
          throw new Error("queue down");
        },
      } as unknown as Queue;
      await flushOutbox(state.storage.sql, failing).catch(() => undefined);
      const kept = count() - before;
      const sent = await flushOutbox(state.storage.sql, env.EVENTS);
      return { kept, sent: sent - before, left: count(), instance: typeof instance };
    });
    expect(result).toMatchObject({ kept: 1, sent: 1, left: 0 });
  });

  it("stores no plaintext: codes are sealed and indexed by keyed hash", async () => {
    const { ref, stub } = await pool(3);
    const issued = await stub.issue(ref, {
      orderId: "ord_p",
      line: 0,
      quantity: 3,
      channelId: "chn_root",
      validity: none,
    });
    const plain = issued.ok ? issued.codes.flatMap((c) => [c.code, c.code.replace(/-/g, "")]) : [];
    const dump = await runInDurableObject(stub, (_o, state) =>
      JSON.stringify(state.storage.sql.exec("SELECT * FROM codes").toArray()),
    );
    for (const p of plain) expect(dump).not.toContain(p);
  });

  it("counts a channel's held codes against its quota and gives it back when the hold ends", async () => {
    const { ref, stub } = await pool(10);
    const child = { id: "chn_holdtest", parentId: "chn_root", path: "/chn_root/chn_holdtest/" };
    expect(await stub.allocate(ref, child, 4)).toMatchObject({ ok: true, quota: 4, unallocated: 6 });
    expect(await stub.hold(ref, { holdId: "hld_q1", quantity: 5, ttlMs: 60_000, channelId: child.id })).toMatchObject({
      ok: false,
      reason: "quota_exceeded",
      available: 4,
    });
    expect(await stub.hold(ref, { holdId: "hld_q2", quantity: 3, ttlMs: 60_000, channelId: child.id })).toMatchObject({
      ok: true,
    });
    expect((await stub.allocations(ref, child.path)).allocations[0].quota).toBe(1);
    await stub.releaseHold(ref, "hld_q2");
    expect((await stub.allocations(ref, child.path)).allocations[0].quota).toBe(4);
  });
});
