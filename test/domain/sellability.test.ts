/** The one "may this line be sold" chain shared by orders and checkout (domain/sellability.ts). */
import { describe, expect, it } from "vitest";
import { type SellableProduct, sellLine } from "../../src/domain/sellability";

const NOW = Date.parse("2026-06-01T00:00:00Z");
const product = (over: Partial<SellableProduct> = {}): SellableProduct => ({
  id: "prd_a",
  kind: "code",
  status: "active",
  currency: "CNY",
  validity: { type: "relative", days: 30 },
  limits: { per_order_max: 5, per_customer_max: 2, per_customer_window_days: 7 },
  shards: 3,
  ...over,
});
const ctx = { now: NOW, currency: null, topupAllowed: true };
const reason = (v: ReturnType<typeof sellLine>) => (v.ok ? "ok" : v.refusal.reason);

describe("sellLine", () => {
  it("builds the order line from the product and the channel's price", () => {
    const v = sellLine({ product_id: "prd_a", quantity: 2 }, product(), 990, ctx);
    expect(v).toEqual({
      ok: true,
      line: {
        product_id: "prd_a",
        quantity: 2,
        unit_price: 990,
        currency: "CNY",
        validity: { type: "relative", days: 30 },
        shards: 3,
        per_customer_max: 2,
        per_customer_window_days: 7,
      },
    });
  });

  it("reads an unknown product and one without a price in the pool alike", () => {
    expect(reason(sellLine({ product_id: "prd_x", quantity: 1 }, undefined, undefined, ctx))).toBe("product_not_found");
    expect(reason(sellLine({ product_id: "prd_a", quantity: 1 }, product(), undefined, ctx))).toBe("product_not_found");
  });

  it("refuses inactive products, ended and future sale windows, over-limit quantities and mixed currencies", () => {
    const item = { product_id: "prd_a", quantity: 1 };
    expect(reason(sellLine(item, product({ status: "paused" }), 1, ctx))).toBe("product_inactive");
    const ended = { type: "absolute" as const, ends_at: "2026-05-01T00:00:00Z" };
    expect(reason(sellLine(item, product({ validity: ended }), 1, ctx))).toBe("product_expired");
    const future = { type: "absolute" as const, starts_at: "2026-07-01T00:00:00Z" };
    expect(reason(sellLine(item, product({ validity: future }), 1, ctx))).toBe("product_not_started");
    expect(reason(sellLine({ ...item, quantity: 6 }, product(), 1, ctx))).toBe("per_order_limit");
    expect(reason(sellLine(item, product(), 1, { ...ctx, currency: "USD" }))).toBe("mixed_currency");
  });

  it("refuses top-up products only where they are not allowed (checkout), before the sale window", () => {
    const topup = product({ kind: "topup", validity: { type: "absolute", ends_at: "2026-05-01T00:00:00Z" } });
    const item = { product_id: "prd_a", quantity: 1 };
    expect(reason(sellLine(item, topup, 1, { ...ctx, topupAllowed: false }))).toBe("topup_not_supported");
    expect(reason(sellLine(item, topup, 1, ctx))).toBe("product_expired");
  });

  it("checks in a fixed order: status before window before limit before currency", () => {
    const all = product({ status: "draft", validity: { type: "absolute", ends_at: "2026-05-01T00:00:00Z" } });
    const v = sellLine({ product_id: "prd_a", quantity: 9 }, all, 1, { ...ctx, currency: "USD" });
    expect(reason(v)).toBe("product_inactive");
    const windowAndLimit = product({ validity: { type: "absolute", ends_at: "2026-05-01T00:00:00Z" } });
    expect(reason(sellLine({ product_id: "prd_a", quantity: 9 }, windowAndLimit, 1, ctx))).toBe("product_expired");
  });
});
