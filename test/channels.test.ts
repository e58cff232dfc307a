import { describe, expect, it } from "vitest";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";

describe("channel walkthrough", () => {
  it("tree → price list → quota → balance → order as a store → roll-up", async () => {
    const product = await productWithCodes(100, { price: 1000 });
    const national = await createChannel("National agent", "agent");
    const nationalKey = await keyFor(national.id);
    const province = await createChannel("Zhejiang agent", "agent", undefined, nationalKey);
    expect(province.path).toEqual(["chn_root", national.id, province.id]);
    const store = await createChannel("Hangzhou store", "store", province.id, nationalKey);

    expect(
      (await setEntry(national.id, product.id, { discount_bps: 2000, allow_below: false })).json.effective_price,
    ).toBe(800);
    const provinceKey = await keyFor(province.id);
    // The national agent prices the province: below its own 800 is refused, above is fine.
    expect((await setEntry(province.id, product.id, { price: 700 }, nationalKey)).json.error.code).toBe(
      "price_below_parent",
    );
    expect((await setEntry(province.id, product.id, { price: 850 }, nationalKey)).json.effective_price).toBe(850);
    expect((await setEntry(store.id, product.id, {}, provinceKey)).json.effective_price).toBe(850);

    expect((await allocate(product.id, national.id, 50)).json).toMatchObject({ quota: 50, unallocated: 50 });
    expect((await allocate(product.id, province.id, 20, nationalKey)).json).toMatchObject({
      quota: 20,
      source_quota: 30,
    });
    expect((await allocate(product.id, store.id, 5, provinceKey)).json).toMatchObject({ quota: 5, source_quota: 15 });

    const storeKey = await keyFor(store.id);
    expect((await orderAs(storeKey, product.id)).json.error.code).toBe("insufficient_balance");
    await topUp(store.id, 2000, provinceKey);
    const ok = await orderAs(storeKey, product.id, 2);
    expect(ok.status).toBe(201);
    expect(ok.json.total_amount).toBe(1700);
    expect((await orderAs(storeKey, product.id, 1)).json.error.code).toBe("insufficient_balance");
    await topUp(store.id, 5000, provinceKey);
    expect((await orderAs(storeKey, product.id, 4)).json.error.code).toBe("quota_exceeded");
    const balance = await call("GET", `/v1/channels/${store.id}/balance`, undefined, { token: storeKey });
    expect(balance.json).toMatchObject({ balance: 5300, reserved: 0, available: 5300 });

    const listed = await call("GET", "/v1/products", undefined, { token: storeKey });
    expect(listed.json.data.map((p: any) => [p.id, p.price])).toEqual([[product.id, 850]]);

    // The roll-up reads the D1 projection of the store's order, written by the queue consumer a moment later.
    const summary = await eventually(
      () => call("GET", `/v1/channels/${national.id}/summary`, undefined, { token: nationalKey }),
      (r) => r.json?.totals?.orders >= 1 && r.json.children?.some((c: any) => c.orders >= 1),
    );
    expect(summary.json.totals).toMatchObject({ orders: 1, units: 2, revenue: 1700 });
    expect(summary.json.children).toEqual([expect.objectContaining({ channel_id: province.id, orders: 1, units: 2 })]);
    expect(summary.json.products[0]).toMatchObject({ product_id: product.id, quota_remaining: 48 });
    expect((await call("GET", `/v1/channels/${national.id}/summary`, undefined, { token: storeKey })).status).toBe(404);
  });
});
