/** Idempotency-Key as partners send them: 1–255 printable characters (their own order numbers work). */
import { describe, expect, it } from "vitest";
import { order, productWithCodes } from "./helpers";

describe("Idempotency-Key", () => {
  it("takes a partner's short order number and replays the same order for it", async () => {
    const p = await productWithCodes(3);
    const first = await order([{ product_id: p.id, quantity: 1 }], {}, "1001");
    expect(first.status).toBe(201);
    const again = await order([{ product_id: p.id, quantity: 1 }], {}, "1001");
    expect([again.status, again.json.id]).toEqual([201, first.json.id]);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const one = await order([{ product_id: p.id, quantity: 1 }], {}, "7");
    expect(one.status).toBe(201);
    expect(one.json.id).not.toBe(first.json.id);
  });

  it("accepts 255 printable characters (spaces inside included) and refuses longer or non-ASCII keys", async () => {
    const p = await productWithCodes(3);
    const long = `${"A1-".repeat(84)}xyz`;
    expect(long).toHaveLength(255);
    expect((await order([{ product_id: p.id, quantity: 1 }], {}, long)).status).toBe(201);
    expect((await order([{ product_id: p.id, quantity: 1 }], {}, "PO 2026/12 #42")).status).toBe(201);
    for (const bad of [`${long}z`, "café-1001", "tab\tinside"]) {
      const r = await order([{ product_id: p.id, quantity: 1 }], {}, bad);
      expect([r.status, r.json.error.code], bad).toEqual([400, "validation_error"]);
    }
  });
});
