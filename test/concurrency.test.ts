/** Invariants under concurrency: no oversell, no code twice, exactly-once redemption, one order per idempotency key. */
import { describe, expect, it } from "vitest";
import { call, idemKey, order, productWithCodes } from "./helpers";

describe("concurrency", { timeout: 180_000 }, () => {
  it("500 concurrent single-code orders against 200 codes: 200 fulfilled with distinct codes, 300 out_of_stock", async () => {
    const product = await productWithCodes(200);
    const results = await Promise.all(
      Array.from({ length: 500 }, () => order([{ product_id: product.id, quantity: 1 }])),
    );
    const fulfilled = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(fulfilled).toHaveLength(200);
    expect(refused).toHaveLength(300);
    expect(refused.every((r) => r.json.error.code === "out_of_stock")).toBe(true);
    const codes = fulfilled.map((r) => r.json.items[0].codes[0].code as string);
    expect(new Set(codes).size).toBe(200);
    const stock = await call("GET", `/v1/products/${product.id}/stock`);
    expect(stock.json).toMatchObject({ total: 200, available: 0, issued: 200 });
  });

  it("each of 200 codes redeemed twice at once: exactly 200 succeed, 200 already_redeemed", async () => {
    const product = await productWithCodes(200);
    const res = await order([{ product_id: product.id, quantity: 200 }]);
    const codes: string[] = res.json.items[0].codes.map((c: { code: string }) => c.code);
    const attempts = await Promise.all(
      codes.flatMap((code) => [
        call("POST", "/v1/redemptions", { code }),
        call("POST", "/v1/redemptions", { code: code.toLowerCase() }),
      ]),
    );
    expect(attempts.filter((r) => r.status === 201)).toHaveLength(200);
    const conflicts = attempts.filter((r) => r.status === 409);
    expect(conflicts).toHaveLength(200);
    expect(conflicts.every((r) => r.json.error.code === "already_redeemed")).toBe(true);
    // Exactly one winner per code.
    const winners = new Map<string, number>();
    for (const [i, r] of attempts.entries()) {
      const code = codes[Math.floor(i / 2)];
      if (r.status === 201) winners.set(code, (winners.get(code) ?? 0) + 1);
    }
    expect([...winners.values()].every((n) => n === 1)).toBe(true);
    expect(winners.size).toBe(200);
    expect((await call("GET", `/v1/products/${product.id}/stock`)).json).toMatchObject({ redeemed: 200, issued: 0 });
  });

  it("concurrent retries with one idempotency key create one order and return the same codes", async () => {
    const product = await productWithCodes(50);
    const key = idemKey("retry");
    const results = await Promise.all(
      Array.from({ length: 30 }, () => order([{ product_id: product.id, quantity: 3 }], {}, key)),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => r.json.id)).size).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r.json.items[0].codes))).size).toBe(1);
    expect((await call("GET", `/v1/products/${product.id}/stock`)).json).toMatchObject({ issued: 3, available: 47 });
  });

  it("concurrent multi-line orders never leave a half-issued order", async () => {
    const a = await productWithCodes(30);
    const b = await productWithCodes(10);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        order([
          { product_id: a.id, quantity: 1 },
          { product_id: b.id, quantity: 1 },
        ]),
      ),
    );
    const ok = results.filter((r) => r.status === 201).length;
    expect(ok).toBe(10);
    const [sa, sb] = await Promise.all([
      call("GET", `/v1/products/${a.id}/stock`),
      call("GET", `/v1/products/${b.id}/stock`),
    ]);
    // Every failed order returned its line-1 code: a's issued count equals the successful orders.
    expect(sa.json).toMatchObject({ issued: 10, available: 20 });
    expect(sb.json).toMatchObject({ issued: 10, available: 0 });
  });

  it("per-customer limit holds under concurrent orders", async () => {
    const product = await productWithCodes(50, { limits: { per_customer_max: 3 } });
    const results = await Promise.all(
      Array.from({ length: 12 }, () => order([{ product_id: product.id, quantity: 1 }], { customer_ref: "user-42" })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 422).every((r) => r.json.error.code === "per_customer_limit")).toBe(true);
  });
});

describe("sharded products", () => {
  it("spreads codes over shards and falls over to the next shard: 90 concurrent orders on 3 shards of 20", async () => {
    const product = await productWithCodes(60, { shards: 3 });
    const stock = await call("GET", `/v1/products/${product.id}/stock`);
    expect(stock.json.shards.map((s: { total: number }) => s.total)).toEqual([20, 20, 20]);
    const results = await Promise.all(
      Array.from({ length: 90 }, () => order([{ product_id: product.id, quantity: 1 }])),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(60);
    expect(results.filter((r) => r.status === 409)).toHaveLength(30);
    const codes = results.filter((r) => r.status === 201).map((r) => r.json.items[0].codes[0].code);
    expect(new Set(codes).size).toBe(60);
    for (const code of codes.slice(0, 6)) expect((await call("POST", "/v1/redemptions", { code })).status).toBe(201);
  });
});
