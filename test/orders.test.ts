import { describe, expect, it } from "vitest";
import { call, createProduct, eventually, generate, idemKey, order, productWithCodes } from "./helpers";

describe("orders", () => {
  it("needs an Idempotency-Key and replays the same answer for it", async () => {
    const p = await productWithCodes(5);
    const missing = await call("POST", "/v1/orders", { items: [{ product_id: p.id, quantity: 1 }] });
    expect(missing.status).toBe(400);
    const key = idemKey();
    const first = await order([{ product_id: p.id, quantity: 2 }], { external_ref: "shop-1001" }, key);
    const again = await order([{ product_id: p.id, quantity: 2 }], { external_ref: "shop-1001" }, key);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const different = await order([{ product_id: p.id, quantity: 1 }], {}, key);
    expect([different.status, different.json.error.code]).toEqual([409, "idempotency_mismatch"]);
  });

  it("replays a fulfilled order even after its product was paused", async () => {
    const p = await productWithCodes(2);
    const key = idemKey();
    const first = await order([{ product_id: p.id, quantity: 1 }], {}, key);
    await call("PATCH", `/v1/products/${p.id}`, { status: "paused" });
    const again = await order([{ product_id: p.id, quantity: 1 }], {}, key);
    expect(again.status).toBe(201);
    expect(again.json.id).toBe(first.json.id);
    expect((await order([{ product_id: p.id, quantity: 1 }])).json.error.code).toBe("product_inactive");
  });

  it("applies product rules: inactive, expired, not started, per-order limit, currency", async () => {
    const draft = await productWithCodes(1, { status: "draft" });
    expect((await order([{ product_id: draft.id, quantity: 1 }])).json.error.code).toBe("product_inactive");
    const ended = await productWithCodes(1, { validity: { type: "absolute", ends_at: "2020-01-01T00:00:00Z" } });
    const e = await order([{ product_id: ended.id, quantity: 1 }]);
    expect([e.status, e.json.error.code]).toEqual([410, "product_expired"]);
    const future = await productWithCodes(1, { validity: { type: "absolute", starts_at: "2099-01-01T00:00:00Z" } });
    expect((await order([{ product_id: future.id, quantity: 1 }])).json.error.code).toBe("product_not_started");
    const limited = await productWithCodes(5, { limits: { per_order_max: 2 } });
    expect((await order([{ product_id: limited.id, quantity: 3 }])).json.error.code).toBe("per_order_limit");
    const usd = await productWithCodes(1, { currency: "USD" });
    const cny = await productWithCodes(1);
    expect(
      (
        await order([
          { product_id: usd.id, quantity: 1 },
          { product_id: cny.id, quantity: 1 },
        ])
      ).json.error.code,
    ).toBe("mixed_currency");
    expect((await order([{ product_id: "prd_doesnotexist", quantity: 1 }])).status).toBe(404);
  });

  it("gives absolute and relative expiry to issued codes", async () => {
    const abs = await productWithCodes(1, { validity: { type: "absolute", ends_at: "2099-06-30T23:59:59Z" } });
    expect((await order([{ product_id: abs.id, quantity: 1 }])).json.items[0].codes[0].expires_at).toBe(
      "2099-06-30T23:59:59.000Z",
    );
    const rel = await productWithCodes(1, { validity: { type: "relative", days: 30 } });
    // 30 days after the moment of issue, which lies between the clock readings before and after the order.
    const before = Date.now();
    const exp = Date.parse((await order([{ product_id: rel.id, quantity: 1 }])).json.items[0].codes[0].expires_at);
    const after = Date.now();
    expect(exp).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
    expect(exp).toBeLessThanOrEqual(after + 30 * 86_400_000);
  });

  it("returns line 1's codes when line 2 is out of stock", async () => {
    const a = await productWithCodes(3);
    const b = await productWithCodes(1);
    const key = idemKey();
    const res = await order(
      [
        { product_id: a.id, quantity: 2 },
        { product_id: b.id, quantity: 2 },
      ],
      {},
      key,
    );
    expect([res.status, res.json.error.code, res.json.error.details.product_id]).toEqual([409, "out_of_stock", b.id]);
    expect((await call("GET", `/v1/products/${a.id}/stock`)).json).toMatchObject({ available: 3, issued: 0 });
    // The failed order's key is spent: replaying it reports the failure, it does not retry.
    expect(
      (
        await order(
          [
            { product_id: a.id, quantity: 2 },
            { product_id: b.id, quantity: 2 },
          ],
          {},
          key,
        )
      ).json.error.code,
    ).toBe("out_of_stock");
    expect((await order([{ product_id: a.id, quantity: 1 }])).status).toBe(201);
  });

  it("shows an order with its codes and lists orders from the projection", async () => {
    const p = await productWithCodes(4, { kind: "link", claim_url_template: "https://shop.example/claim?c={code}" });
    const placed = await order([{ product_id: p.id, quantity: 2 }], { customer_ref: "cust-9", external_ref: "ext-77" });
    expect(placed.json.items[0].codes[0].url).toBe(
      `https://shop.example/claim?c=${encodeURIComponent(placed.json.items[0].codes[0].code)}`,
    );
    const got = await call("GET", `/v1/orders/${placed.json.id}`);
    expect(got.json.items[0].codes).toEqual(placed.json.items[0].codes);
    expect(got.headers.get("cache-control")).toBe("no-store");
    expect((await call("GET", "/v1/orders/ord_unknown")).status).toBe(404);
    const listed = await eventually(
      () => call("GET", "/v1/orders?external_ref=ext-77"),
      (r) => r.json.data.length === 1,
    );
    expect(listed.json.data[0]).toMatchObject({
      id: placed.json.id,
      status: "fulfilled",
      customer_ref: "cust-9",
      total_amount: 3000,
    });
    expect(listed.json.data[0].items[0].codes).toBeUndefined();
  });

  it("paginates orders newest first", async () => {
    const p = await createProduct();
    await generate(p.id, 7);
    for (let i = 0; i < 7; i++) await order([{ product_id: p.id, quantity: 1 }], { customer_ref: "pager" });
    const all: string[] = [];
    let cursor: string | null = null;
    await eventually(
      () => call("GET", "/v1/orders?customer_ref=pager&limit=100"),
      (r) => r.json.data.length === 7,
    );
    do {
      const res: any = await call("GET", `/v1/orders?customer_ref=pager&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      all.push(...res.json.data.map((o: any) => o.id));
      cursor = res.json.next_cursor;
    } while (cursor);
    expect(all).toHaveLength(7);
    expect([...all].sort().reverse()).toEqual(all);
  });
});
