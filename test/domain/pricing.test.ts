/** Properties of price resolution down the channel tree: fixed prices, compounding discounts, pools, rounding. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { discounted, effectivePrice, type PriceEntry, priceAllowed } from "../../src/domain/pricing";

const RUNS = { numRuns: 500 };
/** Money as the API accepts it (routes/schemas.ts: 0 … 1e12 minor units). */
const MONEY_MAX = 1_000_000_000_000;
const money = fc.integer({ min: 0, max: MONEY_MAX });
/** Prices where price × 10 000 is still an exact double (≤ 2^53): every realistic price. */
const EXACT_MAX = Math.floor(Number.MAX_SAFE_INTEGER / 10_000);
const exactMoney = fc.integer({ min: 0, max: EXACT_MAX });
const bps = fc.integer({ min: 0, max: 10_000 });

/** Half-up rounding of price × (10 000 − bps) / 10 000, computed exactly. */
function exactDiscounted(price: number, d: number): number {
  const n = BigInt(price) * BigInt(10_000 - d);
  return Number((n + 5_000n) / 10_000n);
}

const passThrough = (over: Partial<PriceEntry> = {}): PriceEntry => ({
  enabled: true,
  price: null,
  discount_bps: null,
  allow_below: false,
  ...over,
});
const entry: fc.Arbitrary<PriceEntry> = fc.record({
  enabled: fc.constant(true),
  price: fc.option(money, { freq: 3 }),
  discount_bps: fc.option(bps, { freq: 2 }),
  allow_below: fc.boolean(),
});
const discountEntry = bps.map((d) => passThrough({ discount_bps: d }));
/** Chains as the tree allows them: at most 5 levels below the root. */
const chain = fc.array(entry, { maxLength: 5 });

const priceOf = (r: ReturnType<typeof effectivePrice>) => {
  if (!r.ok) throw new Error(`expected a price, got ${r.reason}`);
  return r.price;
};

describe("discounted", () => {
  it("examples: half up to the nearest minor unit", () => {
    expect(discounted(1000, 2000)).toBe(800);
    expect(discounted(1000, 0)).toBe(1000);
    expect(discounted(1000, 10_000)).toBe(0);
    expect(discounted(5, 5000)).toBe(3); // 2.5 → 3
    expect(discounted(1, 5000)).toBe(1); // 0.5 → 1
    expect(discounted(3, 3333)).toBe(2); // 2.0001 → 2
    expect(discounted(999, 1)).toBe(999); // 998.9001 → 999
    expect(discounted(0, 1234)).toBe(0);
  });

  it("is an integer within [0, price], 0 bps keeps the price and 100 % makes it 0", () => {
    fc.assert(
      fc.property(money, bps, (p, d) => {
        const r = discounted(p, d);
        expect(Number.isSafeInteger(r)).toBe(true);
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThanOrEqual(p);
        expect(discounted(p, 0)).toBe(p);
        expect(discounted(p, 10_000)).toBe(0);
      }),
      RUNS,
    );
  });

  it("never rises as the discount grows", () => {
    fc.assert(
      fc.property(
        money,
        bps,
        bps,
        (p, a, b) => void expect(discounted(p, Math.max(a, b))).toBeLessThanOrEqual(discounted(p, Math.min(a, b))),
      ),
      RUNS,
    );
  });

  it("is the exact half-up rounding for every price up to 2^53 / 10 000 minor units", () => {
    fc.assert(
      fc.property(exactMoney, bps, (p, d) => void expect(discounted(p, d)).toBe(exactDiscounted(p, d))),
      RUNS,
    );
    // Exact halves, where a float slip would show.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (k) => void expect(discounted(2 * k + 1, 5000)).toBe(k + 1)),
      RUNS,
    );
  });

  // The API accepts prices up to 1e12 (Money), but price × (10 000 − bps) then exceeds 2^53 and the
  // product is rounded before the division: the result can be one minor unit off the half-up value.
  it("is the exact half-up rounding over the whole Money range the API accepts (up to 1e12)", () => {
    expect(discounted(995_673_870_639, 759)).toBe(exactDiscounted(995_673_870_639, 759)); // 920102223857
  });
});

describe("effectivePrice", () => {
  it("the root (empty chain) sells at list price", () => {
    fc.assert(
      fc.property(money, (list) => void expect(effectivePrice(list, [])).toEqual({ ok: true, price: list })),
      RUNS,
    );
  });

  it("examples: fixed price, discount of the parent's price, pass-through", () => {
    expect(
      effectivePrice(1000, [passThrough({ discount_bps: 2000 }), passThrough({ price: 850 }), passThrough()]),
    ).toEqual({ ok: true, price: 850 });
    expect(effectivePrice(1000, [passThrough({ discount_bps: 1000 }), passThrough({ discount_bps: 1000 })])).toEqual({
      ok: true,
      price: 810,
    });
    expect(effectivePrice(1000, [passThrough({ price: 500 }), passThrough({ discount_bps: 5000 })])).toEqual({
      ok: true,
      price: 250,
    });
    expect(effectivePrice(1000, [passThrough({ price: 1200 })])).toEqual({ ok: true, price: 1200 });
    expect(effectivePrice(1000, [passThrough(), passThrough(), passThrough()])).toEqual({ ok: true, price: 1000 });
    expect(effectivePrice(1000, [passThrough(), undefined])).toEqual({ ok: false, reason: "not_in_pool" });
    expect(effectivePrice(1000, [passThrough({ enabled: false }), passThrough({ price: 1 })])).toEqual({
      ok: false,
      reason: "not_in_pool",
    });
  });

  it("any missing or disabled entry anywhere in the chain means not_in_pool, whatever the others say", () => {
    const broken = fc.oneof(
      fc.constant(undefined),
      entry.map((e) => ({ ...e, enabled: false })),
    );
    fc.assert(
      fc.property(money, chain, broken, fc.nat(), (list, c, bad, at) => {
        const i = at % (c.length + 1);
        const withHole = [...c.slice(0, i), bad, ...c.slice(i)];
        expect(effectivePrice(list, withHole)).toEqual({ ok: false, reason: "not_in_pool" });
      }),
      RUNS,
    );
  });

  it("a chain of enabled entries always has a price: a non-negative integer", () => {
    fc.assert(
      fc.property(money, chain, (list, c) => {
        const price = priceOf(effectivePrice(list, c));
        expect(Number.isSafeInteger(price)).toBe(true);
        expect(price).toBeGreaterThanOrEqual(0);
      }),
      RUNS,
    );
  });

  it("is resolved level by level: a channel's price derives from its parent's effective price only", () => {
    fc.assert(
      fc.property(money, chain, entry, (list, c, last) => {
        const parent = priceOf(effectivePrice(list, c));
        const mine = priceOf(effectivePrice(list, [...c, last]));
        // The same entry under a root selling at the parent's price gives the same answer.
        expect(mine).toBe(priceOf(effectivePrice(parent, [last])));
        if (last.price !== null) expect(mine).toBe(last.price);
        else if (last.discount_bps !== null) expect(mine).toBe(discounted(parent, last.discount_bps));
        else expect(mine).toBe(parent);
      }),
      RUNS,
    );
  });

  it("a fixed price overrides everything above it (and wins over a discount on the same entry)", () => {
    fc.assert(
      fc.property(
        money,
        chain,
        money,
        fc.option(bps),
        fc.array(fc.constant(passThrough()), { maxLength: 3 }),
        (list, above, fixed, d, below) => {
          const c = [...above, passThrough({ price: fixed, discount_bps: d }), ...below];
          expect(effectivePrice(list, c)).toEqual({ ok: true, price: fixed });
        },
      ),
      RUNS,
    );
  });

  it("discounts compound down the chain and stay within [0, parent] at every level", () => {
    fc.assert(
      fc.property(money, fc.array(discountEntry, { maxLength: 5 }), (list, c) => {
        let expected = list;
        for (let i = 0; i < c.length; i++) {
          const parent = expected;
          expected = discounted(parent, c[i].discount_bps!);
          const got = priceOf(effectivePrice(list, c.slice(0, i + 1)));
          expect(got).toBe(expected);
          expect(got).toBeGreaterThanOrEqual(0);
          expect(got).toBeLessThanOrEqual(parent);
        }
        expect(priceOf(effectivePrice(list, c))).toBeLessThanOrEqual(list);
      }),
      RUNS,
    );
  });

  it("compounded discounts are never below the exact product of the factors by more than the rounding of each level", () => {
    fc.assert(
      fc.property(exactMoney, fc.array(bps, { maxLength: 5 }), (list, ds) => {
        const got = priceOf(
          effectivePrice(
            list,
            ds.map((d) => passThrough({ discount_bps: d })),
          ),
        );
        const exact = ds.reduce((p, d) => (p * (10_000 - d)) / 10_000, list);
        // Each level rounds by at most half a unit, and later levels shrink earlier errors.
        expect(Math.abs(got - exact)).toBeLessThanOrEqual(ds.length * 0.5 + 1e-3);
      }),
      RUNS,
    );
  });
});

describe("priceAllowed", () => {
  it("at or above the parent's price is always allowed; below only when the parent allows it", () => {
    fc.assert(
      fc.property(money, money, fc.boolean(), (child, parent, allows) => {
        expect(priceAllowed(child, parent, allows)).toBe(child >= parent || allows);
      }),
      RUNS,
    );
    expect(priceAllowed(799, 800, false)).toBe(false);
    expect(priceAllowed(800, 800, false)).toBe(true);
    expect(priceAllowed(0, 800, true)).toBe(true);
  });

  it("a child priced by a discount off its parent is below it unless the parent allows it (or the discount rounds to nothing)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: EXACT_MAX }), fc.integer({ min: 1, max: 10_000 }), (parent, d) => {
        const child = discounted(parent, d);
        expect(priceAllowed(child, parent, true)).toBe(true);
        expect(priceAllowed(child, parent, false)).toBe(child === parent);
      }),
      RUNS,
    );
  });
});
