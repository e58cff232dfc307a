/** Properties of the split (分账): no cent created or lost, no negative share, caps hold, monotonic in bps. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  lineShare,
  type PathRule,
  ruleShare,
  type SettlementRule,
  type SplitLine,
  splitOrder,
} from "../../src/domain/settlement";

const RUNS = { numRuns: 500 };
const PRODUCTS = ["prd_a", "prd_b", "prd_c"];
const line: fc.Arbitrary<SplitLine> = fc
  .record({
    product_id: fc.constantFrom(...PRODUCTS),
    quantity: fc.integer({ min: 1, max: 1000 }),
    unit: fc.integer({ min: 0, max: 1_000_000_000 }),
  })
  .map((l) => ({ product_id: l.product_id, quantity: l.quantity, amount: l.quantity * l.unit }));
const lines = fc.array(line, { minLength: 1, maxLength: 6 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const rule: fc.Arbitrary<SettlementRule> = fc.record({
  bps: opt(fc.integer({ min: 0, max: 10_000 })),
  fixed_per_unit: opt(fc.integer({ min: 0, max: 100_000 })),
  cap: opt(fc.integer({ min: 0, max: 10_000_000 })),
  overrides: opt(
    fc.uniqueArray(
      fc.record({
        product_id: fc.constantFrom(...PRODUCTS),
        bps: opt(fc.integer({ min: 0, max: 10_000 })),
        fixed_per_unit: opt(fc.integer({ min: 0, max: 100_000 })),
        cap: opt(fc.integer({ min: 0, max: 1_000_000 })),
      }),
      { selector: (o) => o.product_id },
    ),
  ),
});
const path: fc.Arbitrary<PathRule[]> = fc
  .array(fc.option(rule, { nil: null }), { minLength: 0, maxLength: 5 })
  .map((rs) => rs.map((r, i) => ({ channel_id: `chn_${i}`, rule: r })));

describe("splitOrder", () => {
  it("shares plus the merchant's remainder are exactly the total; nothing is negative", () => {
    fc.assert(
      fc.property(lines, path, (ls, p) => {
        const s = splitOrder(ls, p);
        const total = ls.reduce((a, l) => a + l.amount, 0);
        expect(s.total).toBe(total);
        expect(s.shares.reduce((a, x) => a + x.amount, 0) + s.merchant_amount).toBe(total);
        expect(s.merchant_amount).toBeGreaterThanOrEqual(0);
        for (const x of s.shares) {
          expect(x.amount).toBeGreaterThanOrEqual(0);
          expect(Number.isInteger(x.amount)).toBe(true);
        }
        expect(s.shares.map((x) => x.channel_id)).toEqual(p.map((x) => x.channel_id));
      }),
      RUNS,
    );
  });

  it("respects the per-order cap and each override's per-line cap", () => {
    fc.assert(
      fc.property(lines, path, (ls, p) => {
        const s = splitOrder(ls, p);
        p.forEach((pr, i) => {
          if (pr.rule?.cap != null) expect(s.shares[i].amount).toBeLessThanOrEqual(pr.rule.cap);
          for (const l of ls) {
            const o = pr.rule?.overrides?.find((x) => x.product_id === l.product_id);
            if (o?.cap != null) expect(Number(lineShare(pr.rule!, l))).toBeLessThanOrEqual(o.cap);
          }
        });
      }),
      RUNS,
    );
  });

  it("a channel's share never falls when its bps rises", () => {
    fc.assert(
      fc.property(
        lines,
        path.filter((p) => p.length > 0),
        fc.nat(),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (ls, p, pick, b1, b2) => {
          const i = pick % p.length;
          const [lo, hi] = b1 <= b2 ? [b1, b2] : [b2, b1];
          const withBps = (bps: number) =>
            p.map((x, k) => (k === i ? { ...x, rule: { ...(x.rule ?? {}), bps, overrides: [] } } : x));
          expect(splitOrder(ls, withBps(hi)).shares[i].amount).toBeGreaterThanOrEqual(
            splitOrder(ls, withBps(lo)).shares[i].amount,
          );
        },
      ),
      RUNS,
    );
  });

  it("scales down deterministically when the rules ask for more than the total", () => {
    const ls = [{ product_id: "prd_a", quantity: 2, amount: 100 }];
    const p = [
      { channel_id: "chn_a", rule: { fixed_per_unit: 60 } },
      { channel_id: "chn_b", rule: { fixed_per_unit: 30 } },
    ];
    const s = splitOrder(ls, p); // asked 120 + 60 = 180 of 100 → floor(120·100/180) = 66, floor(60·100/180) = 33
    expect(s).toEqual({
      total: 100,
      scaled: true,
      merchant_amount: 1,
      shares: [
        { channel_id: "chn_a", amount: 66 },
        { channel_id: "chn_b", amount: 33 },
      ],
    });
  });

  it("the worked example: store 8 %, provincial 3 %, national 2 %, brand the rest (with rounding)", () => {
    const ls = [
      { product_id: "prd_a", quantity: 3, amount: 2997 },
      { product_id: "prd_b", quantity: 1, amount: 1999 },
    ];
    const p = [
      { channel_id: "national", rule: { bps: 200 } },
      { channel_id: "provincial", rule: { bps: 300 } },
      { channel_id: "store", rule: { bps: 800 } },
    ];
    const s = splitOrder(ls, p);
    // national: floor(59.94)+floor(39.98) = 59+39; provincial: 89+59; store: 239+159
    expect(s.shares.map((x) => x.amount)).toEqual([98, 148, 398]);
    expect(s.merchant_amount).toBe(4996 - 98 - 148 - 398);
  });

  it("overrides replace the channel's rule for their product; no rule earns nothing", () => {
    const r: SettlementRule = { bps: 1000, overrides: [{ product_id: "prd_b", fixed_per_unit: 7, cap: 20 }] };
    expect(ruleShare(r, [{ product_id: "prd_a", quantity: 1, amount: 1000 }])).toBe(100n);
    expect(ruleShare(r, [{ product_id: "prd_b", quantity: 2, amount: 1000 }])).toBe(14n);
    expect(ruleShare(r, [{ product_id: "prd_b", quantity: 5, amount: 1000 }])).toBe(20n);
    expect(ruleShare(null, [{ product_id: "prd_a", quantity: 1, amount: 1000 }])).toBe(0n);
    expect(ruleShare({ bps: 1000, cap: 50 }, [{ product_id: "prd_a", quantity: 1, amount: 1000 }])).toBe(50n);
  });
});
