/**
 * What the console's API calls promise: a console session never receives codes (even for its own channel's
 * orders, which an API key of that channel would get), and `/` leads to the console.
 */
import { describe, expect, it } from "vitest";
import { call, generate, idemKey } from "./helpers";
import { as, createUser, session } from "./session-fixtures";

describe("the console's view of the API", () => {
  it("sends an order's lines but never its codes to a console session", async () => {
    const p = await call("POST", "/v1/products", { name: "Console codes", price: 100, currency: "CNY" });
    await generate(p.json.id, 3);
    const placed = await call(
      "POST",
      "/v1/orders",
      { items: [{ product_id: p.json.id, quantity: 2 }] },
      { headers: { "idempotency-key": idemKey("console") } },
    );
    expect(placed.status).toBe(201);
    // The same root channel through its token sees the codes…
    const byToken = await call("GET", `/v1/orders/${placed.json.id}`);
    expect(byToken.json.items[0].codes).toHaveLength(2);
    // …the owner's console session sees the order without them.
    const owner = await session((await createUser("owner")).email);
    const bySession = await as(owner, "GET", `/v1/orders/${placed.json.id}`);
    expect(bySession.status).toBe(200);
    expect(bySession.json.items[0]).toMatchObject({ product_id: p.json.id, quantity: 2 });
    expect(bySession.json.items[0].codes).toBeUndefined();
    for (const c of byToken.json.items[0].codes) expect(bySession.text).not.toContain(c.code);
  });

  it("redirects / to the console", async () => {
    const res = await call("GET", "/", undefined, { token: null });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/console/");
  });
});
