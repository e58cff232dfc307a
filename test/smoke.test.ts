import { describe, expect, it } from "vitest";
import { call, createProduct, generate, order } from "./helpers";

describe("walkthrough", () => {
  it("product → batch → order → redeem", async () => {
    const product = await createProduct();
    const batch = await generate(product.id, 5);
    expect(batch).toMatchObject({ status: "completed", total: 5, done: 5 });
    const res = await order([{ product_id: product.id, quantity: 2 }]);
    expect(res.status).toBe(201);
    const code = res.json.items[0].codes[0].code;
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect((await call("POST", "/v1/redemptions", { code })).status).toBe(201);
    expect((await call("POST", "/v1/redemptions", { code })).json.error.code).toBe("already_redeemed");
  });
});
