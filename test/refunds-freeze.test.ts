/**
 * Freeze-then-void (objects/sku-pool-refund.ts): a refund of a multi-product order freezes every pool's
 * codes first and voids them only when all pools agreed, so a refusal or a crash at any step loses no
 * code. Crashes are simulated by doing the first steps through the pools' RPCs, then leaving the claim
 * a crash would leave, and running the ChannelAccount's alarm (its own run, if it fires first, does the same).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { allocate, createChannel, keyFor, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, idemKey, order, productWithCodes } from "./helpers";
import { runAlarmNow } from "./pipeline-fixtures";

const refund = (orderId: string) =>
  call("POST", `/v1/orders/${orderId}/refund`, { reason: "test" }, { headers: { "idempotency-key": idemKey("rf") } });
const redeem = (code: string) => call("POST", "/v1/redemptions", { code });
const verify = async (code: string) => (await call("POST", "/v1/codes/verify", { code })).json.status as string;
const poolOf = (productId: string) => {
  const ref = { productId, shard: 0 };
  return { ref, stub: env.SKU_POOL.get(env.SKU_POOL.idFromName(`sku:${productId}:0`)) };
};
const accountOf = (channelId: string) => env.CHANNEL_ACCOUNT.get(env.CHANNEL_ACCOUNT.idFromName(channelId));

/** A reseller's paid order of two products (one pool each), two codes per product, projected to D1. */
async function twoProductOrder(orders = 1) {
  const [a, b] = [
    await productWithCodes(2 * orders, { price: 700 }),
    await productWithCodes(2 * orders, { price: 300 }),
  ];
  const ch = await createChannel(`reseller ${Math.random()}`, "partner");
  for (const p of [a, b]) {
    await setEntry(ch.id, p.id, {});
    await allocate(p.id, ch.id, 2 * orders);
  }
  await topUp(ch.id, 100_000);
  const token = await keyFor(ch.id);
  const placed = [];
  for (let i = 0; i < orders; i++) {
    const items = [
      { product_id: a.id, quantity: 2 },
      { product_id: b.id, quantity: 2 },
    ];
    const res = await order(items, {}, idemKey(), token);
    expect(res.status, res.text).toBe(201);
    placed.push({
      id: res.json.id as string,
      codesA: res.json.items[0].codes.map((c: { code: string }) => c.code) as string[],
      codesB: res.json.items[1].codes.map((c: { code: string }) => c.code) as string[],
    });
  }
  for (const o of placed)
    await eventually(
      () => env.DB.prepare("SELECT id FROM orders WHERE id = ?1").bind(o.id).first(),
      (r) => r !== null,
    );
  return { a: a.id, b: b.id, channelId: ch.id, orders: placed };
}

/** Leaves a refund claim as a crash would: `voiding`, old enough for the alarm to pick up. */
async function crashedClaim(channelId: string, orderId: string, refundId: string) {
  await runInDurableObject(accountOf(channelId), (_instance, state) => {
    state.storage.sql.exec(
      "INSERT INTO order_refunds (order_id, refund_id, state, record, created_at) VALUES (?, ?, 'voiding', ?, ?)",
      orderId,
      refundId,
      JSON.stringify({ reason: "crash test" }),
      Date.now() - 120_000,
    );
  });
}

const balanceOf = async (channelId: string) => (await accountOf(channelId).balance()).balance;
const statusOf = async (channelId: string, orderId: string) =>
  (await accountOf(channelId).getOrder(orderId, false))?.order.status;

describe("freeze-then-void refunds", () => {
  it("a frozen code is not redeemable (refund_pending) and redeems again after the thaw", async () => {
    const { a, orders } = await twoProductOrder();
    const { ref, stub } = poolOf(a);
    expect(await stub.freezeOrder(ref, orders[0].id, "rfd_t1")).toEqual({ ok: true });
    const refused = await redeem(orders[0].codesA[0]);
    expect([refused.status, refused.json.error.code]).toEqual([409, "refund_pending"]);
    expect(await verify(orders[0].codesA[0])).toBe("issued");
    await stub.thawOrder(ref, orders[0].id, "rfd_t1");
    expect((await redeem(orders[0].codesA[0])).status).toBe(201);
  });

  it("a refund refused by a later pool (a code redeemed) thaws the earlier pool: its codes stay valid", async () => {
    const { channelId, orders } = await twoProductOrder();
    const [o] = orders;
    expect((await redeem(o.codesB[0])).status).toBe(201);
    const before = await balanceOf(channelId);
    const r = await refund(o.id);
    expect([r.status, r.json.error.code]).toEqual([409, "code_redeemed"]);
    for (const code of o.codesA) expect(await verify(code)).toBe("issued");
    expect((await redeem(o.codesA[0])).status).toBe(201);
    expect(await balanceOf(channelId)).toBe(before);
    expect(await statusOf(channelId, o.id)).toBe("fulfilled");
  });

  it("a refund that crashed after freezing one pool is finished by the alarm: every code voided, money back once", async () => {
    const { a, channelId, orders } = await twoProductOrder();
    const [o] = orders;
    const before = await balanceOf(channelId);
    const { ref, stub } = poolOf(a);
    expect(await stub.freezeOrder(ref, o.id, "rfd_crash1")).toEqual({ ok: true });
    await crashedClaim(channelId, o.id, "rfd_crash1");
    await runAlarmNow(accountOf(channelId));
    expect(await statusOf(channelId, o.id)).toBe("refunded");
    for (const code of [...o.codesA, ...o.codesB]) expect(await verify(code)).toBe("voided");
    expect(await balanceOf(channelId)).toBe(before + 2 * 700 + 2 * 300);
    await runAlarmNow(accountOf(channelId)); // a second pass changes nothing
    expect(await balanceOf(channelId)).toBe(before + 2 * 700 + 2 * 300);
  });

  it("a refund that crashed part-way through voiding is finished by the alarm", async () => {
    const { a, b, channelId, orders } = await twoProductOrder();
    const [o] = orders;
    const [pa, pb] = [poolOf(a), poolOf(b)];
    await pa.stub.freezeOrder(pa.ref, o.id, "rfd_crash2");
    await pb.stub.freezeOrder(pb.ref, o.id, "rfd_crash2");
    expect(await pa.stub.voidFrozenOrder(pa.ref, o.id, "rfd_crash2", "refund:rfd_crash2")).toEqual({ voided: 2 });
    await crashedClaim(channelId, o.id, "rfd_crash2");
    await runAlarmNow(accountOf(channelId));
    expect(await statusOf(channelId, o.id)).toBe("refunded");
    for (const code of [...o.codesA, ...o.codesB]) expect(await verify(code)).toBe("voided");
  });

  it("a crashed refund whose other pool sold a redemption meanwhile is thawed by the alarm: nothing lost", async () => {
    const { a, channelId, orders } = await twoProductOrder();
    const [o] = orders;
    const before = await balanceOf(channelId);
    const { ref, stub } = poolOf(a);
    await stub.freezeOrder(ref, o.id, "rfd_crash3");
    expect((await redeem(o.codesB[1])).status).toBe(201); // pool B was never frozen
    await crashedClaim(channelId, o.id, "rfd_crash3");
    await runAlarmNow(accountOf(channelId));
    expect(await statusOf(channelId, o.id)).toBe("fulfilled");
    for (const code of o.codesA) expect(await verify(code)).toBe("issued");
    expect((await redeem(o.codesA[1])).status).toBe(201);
    expect(await balanceOf(channelId)).toBe(before);
    const claims = await runInDurableObject(accountOf(channelId), (_i, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM order_refunds WHERE order_id = ?", o.id).one(),
    );
    expect(claims.n).toBe(0);
  });

  it("refunds racing redemptions of their codes: each order is either wholly refunded or wholly kept", async () => {
    const N = 12;
    const { channelId, orders } = await twoProductOrder(N);
    const before = await balanceOf(channelId);
    const outcomes = await Promise.all(
      orders.map(async (o) => {
        const [r, d] = await Promise.all([refund(o.id), redeem(o.codesB[0])]);
        return { o, refund: r.status, redeem: d.status };
      }),
    );
    let refunded = 0;
    for (const { o, refund: rs, redeem: ds } of outcomes) {
      const statuses = await Promise.all([...o.codesA, ...o.codesB].map(verify));
      if (rs === 200) {
        refunded++;
        expect(ds, o.id).not.toBe(201);
        expect(statuses, o.id).toEqual(["voided", "voided", "voided", "voided"]);
        expect(await statusOf(channelId, o.id)).toBe("refunded");
      } else {
        expect([rs, ds], o.id).toEqual([409, 201]);
        expect(statuses, o.id).toEqual(["issued", "issued", "redeemed", "issued"]);
        expect(await statusOf(channelId, o.id)).toBe("fulfilled");
      }
    }
    expect(await balanceOf(channelId)).toBe(before + refunded * (2 * 700 + 2 * 300));
  });
});
