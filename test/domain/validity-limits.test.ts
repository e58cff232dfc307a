/** Properties of validity (expiry, sale window) and purchase limits (per order, per customer, window). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CustomerLimits,
  checkCustomerLimit,
  checkOrderLimit,
  type PurchaseLimits,
  windowStart,
} from "../../src/domain/limits";
import { expiryFor, isExpired, saleState, toIso, type Validity } from "../../src/domain/validity";

const DAY = 86_400_000;
const RUNS = { numRuns: 300 };
/** Instants between 1970 and 2200, in ms. */
const instant = fc.integer({ min: 0, max: 7_258_118_400_000 });
const iso = instant.map((ms) => new Date(ms).toISOString());
/** The same instant written with an offset, as the API accepts it. */
const isoWithOffset = fc.tuple(instant, fc.integer({ min: -12 * 60, max: 14 * 60 })).map(([ms, off]) => {
  const local = new Date(ms + off * 60_000).toISOString().slice(0, 19);
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return {
    ms: Math.floor(ms / 1000) * 1000,
    text: `${local}${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`,
  };
});
const days = fc.integer({ min: 1, max: 3650 });
const validity: fc.Arbitrary<Validity> = fc.oneof(
  fc.constant({ type: "none" as const }),
  fc.record({ type: fc.constant("relative" as const), days }),
  fc.record(
    { type: fc.constant("absolute" as const), starts_at: fc.option(iso), ends_at: fc.option(iso) },
    { requiredKeys: ["type"] },
  ),
);

describe("expiryFor", () => {
  it("relative validity expires `days` after issue", () => {
    fc.assert(
      fc.property(
        days,
        instant,
        (d, issued) => void expect(expiryFor({ type: "relative", days: d }, issued)).toBe(issued + d * DAY),
      ),
      RUNS,
    );
  });

  it("absolute validity expires at ends_at whatever the issue time, or never without one", () => {
    fc.assert(
      fc.property(fc.option(iso), fc.option(iso), instant, instant, (starts, ends, a, b) => {
        const v: Validity = { type: "absolute", starts_at: starts, ends_at: ends };
        expect(expiryFor(v, a)).toBe(ends ? Date.parse(ends) : null);
        expect(expiryFor(v, a)).toBe(expiryFor(v, b));
      }),
      RUNS,
    );
  });

  it("reads offsets: the same instant written with any offset expires at the same moment", () => {
    fc.assert(
      fc.property(
        isoWithOffset,
        instant,
        ({ ms, text }, issued) => void expect(expiryFor({ type: "absolute", ends_at: text }, issued)).toBe(ms),
      ),
      RUNS,
    );
  });

  it("no validity never expires", () => {
    fc.assert(
      fc.property(instant, (t) => void expect(expiryFor({ type: "none" }, t)).toBeNull()),
      RUNS,
    );
  });

  it("a code is valid right after issue for any validity but an absolute one already ended", () => {
    fc.assert(
      fc.property(validity, instant, (v, issued) => {
        const exp = expiryFor(v, issued);
        if (v.type !== "absolute") expect(isExpired(exp, issued)).toBe(false);
        else expect(isExpired(exp, issued)).toBe(!!v.ends_at && Date.parse(v.ends_at) <= issued);
      }),
      RUNS,
    );
  });
});

describe("saleState", () => {
  it("only absolute validity has a sale window", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant({ type: "none" as const }), fc.record({ type: fc.constant("relative" as const), days })),
        instant,
        (v, now) => void expect(saleState(v, now)).toBe("ok"),
      ),
      RUNS,
    );
  });

  it("ended at or after ends_at, not started before starts_at, ok in between", () => {
    fc.assert(
      fc.property(fc.option(iso), fc.option(iso), instant, (starts, ends, now) => {
        const state = saleState({ type: "absolute", starts_at: starts, ends_at: ends }, now);
        const ended = !!ends && Date.parse(ends) <= now;
        const notStarted = !!starts && Date.parse(starts) > now;
        expect(state).toBe(ended ? "ended" : notStarted ? "not_started" : "ok");
      }),
      RUNS,
    );
  });

  it("moves forward in time only: not_started → ok → ended", () => {
    const rank = { not_started: 0, ok: 1, ended: 2 } as const;
    fc.assert(
      fc.property(validity, instant, fc.integer({ min: 0, max: 400 * DAY }), (v, t, dt) => {
        expect(rank[saleState(v, t + dt)]).toBeGreaterThanOrEqual(rank[saleState(v, t)]);
      }),
      RUNS,
    );
  });

  it("boundaries: the window includes starts_at and excludes ends_at", () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 1000 * DAY }), (start, len) => {
        const v: Validity = {
          type: "absolute",
          starts_at: new Date(start).toISOString(),
          ends_at: new Date(start + len).toISOString(),
        };
        expect(saleState(v, start - 1)).toBe("not_started");
        expect(saleState(v, start)).toBe("ok");
        expect(saleState(v, start + len - 1)).toBe("ok");
        expect(saleState(v, start + len)).toBe("ended");
      }),
      RUNS,
    );
  });
});

describe("isExpired", () => {
  it("null never expires; otherwise expired exactly from the expiry instant on", () => {
    fc.assert(
      fc.property(fc.option(instant), instant, (exp, now) => {
        expect(isExpired(exp, now)).toBe(exp !== null && exp <= now);
        if (exp !== null) {
          expect(isExpired(exp, exp)).toBe(true);
          expect(isExpired(exp, exp - 1)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it("is monotone in time", () => {
    fc.assert(
      fc.property(
        fc.option(instant),
        instant,
        fc.nat(),
        (exp, t, dt) => void expect(!isExpired(exp, t) || isExpired(exp, t + dt)).toBe(true),
      ),
      RUNS,
    );
  });

  it("toIso round-trips with Date.parse", () => {
    fc.assert(
      fc.property(instant, (ms) => void expect(Date.parse(toIso(ms)!)).toBe(ms)),
      RUNS,
    );
    expect(toIso(null)).toBeNull();
  });
});

// ---------------------------------------------------------------- limits

const max = fc.option(fc.integer({ min: 1, max: 1_000_000 }));
const limits: fc.Arbitrary<PurchaseLimits> = fc.record({
  per_order_max: max,
  per_customer_max: max,
  per_customer_window_days: fc.option(days),
});
const qty = fc.integer({ min: 1, max: 2_000_000 });

describe("checkOrderLimit", () => {
  it("refuses exactly the quantities above per_order_max, and reports the limit", () => {
    fc.assert(
      fc.property(limits, qty, (l, q) => {
        const v = checkOrderLimit(l, q);
        if (l.per_order_max === null || q <= l.per_order_max) expect(v).toEqual({ ok: true });
        else expect(v).toEqual({ ok: false, reason: "per_order_limit", limit: l.per_order_max });
      }),
      RUNS,
    );
  });

  it("boundary: per_order_max itself is allowed, one more is not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (m) => {
        const l: PurchaseLimits = { per_order_max: m, per_customer_max: null, per_customer_window_days: null };
        expect(checkOrderLimit(l, m).ok).toBe(true);
        expect(checkOrderLimit(l, m + 1).ok).toBe(false);
      }),
      RUNS,
    );
  });
});

describe("checkCustomerLimit", () => {
  const customer: fc.Arbitrary<CustomerLimits> = fc.record({
    per_customer_max: max,
    per_customer_window_days: fc.option(days),
  });

  it("allows a purchase exactly when what was bought plus this stays within the maximum", () => {
    fc.assert(
      fc.property(customer, fc.nat({ max: 2_000_000 }), qty, (l, bought, q) => {
        const v = checkCustomerLimit(l, bought, q);
        if (l.per_customer_max === null || bought + q <= l.per_customer_max) expect(v).toEqual({ ok: true });
        else expect(v).toEqual({ ok: false, reason: "per_customer_limit", limit: l.per_customer_max });
      }),
      RUNS,
    );
  });

  it("is monotone: buying more, or having bought more, never turns a refusal into a yes", () => {
    fc.assert(
      fc.property(
        customer,
        fc.nat({ max: 1_000_000 }),
        qty,
        fc.nat({ max: 1000 }),
        fc.nat({ max: 1000 }),
        (l, bought, q, more, extra) => {
          if (!checkCustomerLimit(l, bought, q).ok) {
            expect(checkCustomerLimit(l, bought + more, q).ok).toBe(false);
            expect(checkCustomerLimit(l, bought, q + extra).ok).toBe(false);
          }
        },
      ),
      RUNS,
    );
  });

  it("successive purchases that each pass never add up to more than the maximum", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 30 }),
        (m, attempts) => {
          const l: CustomerLimits = { per_customer_max: m, per_customer_window_days: null };
          let bought = 0;
          for (const q of attempts) if (checkCustomerLimit(l, bought, q).ok) bought += q;
          expect(bought).toBeLessThanOrEqual(m);
        },
      ),
      RUNS,
    );
  });
});

describe("windowStart", () => {
  it("is 0 (for ever) without a window, else now minus the window", () => {
    fc.assert(
      fc.property(fc.option(days), instant, (d, now) => {
        const start = windowStart({ per_customer_max: 1, per_customer_window_days: d }, now);
        expect(start).toBe(d === null ? 0 : now - d * DAY);
        expect(start).toBeLessThanOrEqual(now);
      }),
      RUNS,
    );
  });

  it("a purchase counts while it is inside the window, and stops counting after it", () => {
    fc.assert(
      fc.property(days, instant, fc.integer({ min: 0, max: 4000 * DAY }), (d, bought, later) => {
        const now = bought + later;
        const counts = bought >= windowStart({ per_customer_max: 1, per_customer_window_days: d }, now);
        expect(counts).toBe(later <= d * DAY);
      }),
      RUNS,
    );
  });

  it("a longer window starts earlier", () => {
    fc.assert(
      fc.property(days, days, instant, (a, b, now) => {
        const s = (w: number) => windowStart({ per_customer_max: 1, per_customer_window_days: w }, now);
        expect(Math.sign(s(Math.min(a, b)) - s(Math.max(a, b)))).toBeGreaterThanOrEqual(0);
      }),
      RUNS,
    );
  });
});
