import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { lookupCode } from "../src/lib/code-lookup";
import { skuPool } from "../src/objects/sku-pool";
import { call, createProduct, generate, order } from "./helpers";

async function issuedCodes(n: number, overrides: Record<string, unknown> = {}) {
  const p = await createProduct(overrides);
  await generate(p.id, n);
  const res = await order([{ product_id: p.id, quantity: n }]);
  return { product: p, codes: res.json.items[0].codes as { code: string; pin?: string; expires_at: string | null }[] };
}

describe("verify and redeem", () => {
  it("verifies without changing anything, then redeems once", async () => {
    const { codes, product } = await issuedCodes(1);
    const v = await call("POST", "/v1/codes/verify", { code: codes[0].code });
    expect(v.json).toMatchObject({
      object: "code",
      status: "issued",
      product_id: product.id,
      last4: codes[0].code.replace(/-/g, "").slice(-4),
    });
    const r = await call("POST", "/v1/redemptions", { code: codes[0].code, redeemer: "store-7" });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ object: "redemption", redeemer: "store-7" });
    expect((await call("POST", "/v1/codes/verify", { code: codes[0].code })).json.status).toBe("redeemed");
  });

  it("does not redeem codes that were never sold", async () => {
    const p = await createProduct();
    await call("POST", `/v1/products/${p.id}/batches`, { import: { codes: [{ code: "UNSOLD-CODE-0001" }] } });
    const r = await call("POST", "/v1/redemptions", { code: "UNSOLD-CODE-0001" });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("code_not_found");
  });

  it("needs the PIN of a card and locks it after 5 wrong PINs", async () => {
    const { codes } = await issuedCodes(1, { kind: "card" });
    const { code, pin } = codes[0];
    expect((await call("POST", "/v1/redemptions", { code })).json.error.code).toBe("pin_required");
    for (let i = 0; i < 4; i++)
      expect((await call("POST", "/v1/redemptions", { code, pin: "000000000" })).status).toBe(404);
    const fifth = await call("POST", "/v1/redemptions", { code, pin: "000000000" });
    expect(fifth.status).toBe(423);
    expect(fifth.json.error.code).toBe("card_locked");
    expect((await call("POST", "/v1/redemptions", { code, pin })).json.error.code).toBe("card_locked");
  });

  it("accepts the right PIN and resets the failure count", async () => {
    const { codes } = await issuedCodes(1, { kind: "card" });
    const { code, pin } = codes[0];
    for (let i = 0; i < 4; i++) await call("POST", "/v1/codes/verify", { code, pin: "999999999" });
    expect((await call("POST", "/v1/codes/verify", { code, pin })).json.status).toBe("issued");
    for (let i = 0; i < 4; i++) await call("POST", "/v1/codes/verify", { code, pin: "999999999" });
    expect((await call("POST", "/v1/redemptions", { code, pin: ` ${pin} ` })).status).toBe(201);
  });

  it("answers 410 for expired and voided codes", async () => {
    const { codes, product } = await issuedCodes(2, { validity: { type: "relative", days: 1 } });
    expect(codes[0].expires_at).not.toBeNull();
    // Age the code inside its pool (the only writer) instead of waiting a day.
    const ref = { productId: product.id, shard: 0 };
    await runInDurableObject(skuPool(env, ref), (_o, state) =>
      state.storage.sql.exec("UPDATE codes SET expires_at = ? WHERE order_id IS NOT NULL", Date.now() - 1),
    );
    const expired = await call("POST", "/v1/redemptions", { code: codes[0].code });
    expect(expired.status).toBe(410);
    expect(expired.json.error.code).toBe("code_expired");
    expect((await call("POST", "/v1/codes/verify", { code: codes[0].code })).json.status).toBe("expired");
    expect((await call("POST", "/v1/codes/void", { code: codes[1].code, reason: "leaked" })).status).toBe(200);
    const voided = await call("POST", "/v1/redemptions", { code: codes[1].code });
    expect([voided.status, voided.json.error.code]).toEqual([410, "code_voided"]);
  });

  it("reverses a redemption within the window, once", async () => {
    const { codes } = await issuedCodes(1);
    const r = await call("POST", "/v1/redemptions", { code: codes[0].code });
    const rev = await call("POST", `/v1/redemptions/${r.json.id}/reverse`);
    expect(rev.status).toBe(200);
    expect((await call("POST", `/v1/redemptions/${r.json.id}/reverse`)).json.error.code).toBe("already_reversed");
    expect((await call("POST", "/v1/redemptions", { code: codes[0].code })).status).toBe(201);
    expect((await call("POST", "/v1/redemptions/rdm_unknown/reverse")).status).toBe(404);
  });

  it("refuses a reversal after the product's window", async () => {
    const { codes, product } = await issuedCodes(1, { reversal_window_hours: 0 });
    const r = await call("POST", "/v1/redemptions", { code: codes[0].code });
    // A window of 0 has passed as soon as the clock moves on: move the redemption 1 ms into the past in its pool
    // (the only writer) rather than sleeping until the clock ticks.
    await runInDurableObject(skuPool(env, { productId: product.id, shard: 0 }), (_o, state) =>
      state.storage.sql.exec("UPDATE redemptions SET redeemed_at = redeemed_at - 1 WHERE id = ?", r.json.id),
    );
    const rev = await call("POST", `/v1/redemptions/${r.json.id}/reverse`);
    expect([rev.status, rev.json.error.code]).toEqual([422, "reversal_window_passed"]);
  });

  it("rejects a wrong check without touching storage", async () => {
    const before = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM redemption_attempts WHERE result = 'not_found_check'",
    ).first<{ n: number }>();
    const r = await call("POST", "/v1/redemptions", { code: "AAAA-BBBB-CCCC-DDDD" });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("code_not_found");
    const after = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM redemption_attempts WHERE result = 'not_found_check'",
    ).first<{ n: number }>();
    // The attempt is recorded as stopped at the check stage, i.e. before the index lookup.
    expect(after!.n).toBe(before!.n + 1);
  });

  it("never reaches D1 for a code with wrong check characters", async () => {
    const noStorage = new Proxy(
      {},
      {
        get() {
          throw new Error("storage was touched");
        },
      },
    );
    const guess = await lookupCode({ ...env, DB: noStorage } as unknown as Env, "7KQ2-M9XP-4HCT-R1WD", null);
    expect(guess).toEqual({ found: false, stage: "check" });
  });
});
