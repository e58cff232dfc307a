/**
 * The posting builders: every posting's legs sum to zero; refunds are exact negatives of the sale. Revenue
 * recognition: revenue-recognition.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Leg, legsSum, payoutPosting, refundPosting, salePosting, topUpPosting } from "../../src/domain/ledger";
import { postingRollupDeltas } from "../../src/domain/rollups";
import type { PathRule } from "../../src/domain/settlement";

const rules = fc
  .array(fc.record({ bps: fc.integer({ min: 0, max: 10_000 }), fixed_per_unit: fc.integer({ min: 0, max: 500 }) }), {
    maxLength: 4,
  })
  .map((rs): PathRule[] => rs.map((r, i) => ({ channel_id: `chn_p${i}`, rule: r })));
const lines = fc
  .array(
    fc.record({
      product_id: fc.constantFrom("prd_a", "prd_b"),
      quantity: fc.integer({ min: 1, max: 50 }),
      unit: fc.integer({ min: 0, max: 100_000 }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((ls) => ls.map((l) => ({ product_id: l.product_id, quantity: l.quantity, amount: l.quantity * l.unit })));
const payment = fc.constantFrom({ method: "balance" as const }, { method: "gateway" as const, gateway: "stripe" });

const sale = (
  ls: { product_id: string; quantity: number; amount: number }[],
  path: PathRule[],
  pay: { method: "balance" } | { method: "gateway"; gateway: string },
) =>
  salePosting({
    event_id: "evt_1",
    order_id: "ord_1",
    channel_id: "chn_p9",
    currency: "CNY",
    lines: ls,
    payment: pay,
    amount: ls.reduce((s, l) => s + l.amount, 0),
    path,
    at: 1,
  });

describe("ledger postings", () => {
  it("the cockpit's commission and merchant share of a sale add up to the money taken, and a refund undoes its part", () => {
    fc.assert(
      fc.property(lines, rules, payment, fc.integer({ min: 0, max: 100 }), (ls, path, pay, pct) => {
        const { posting, split } = sale(ls, path, pay);
        const deltas = postingRollupDeltas(posting);
        const earned = (d: typeof deltas) => d.reduce((s, x) => s + (x.commission ?? 0) + (x.merchantShare ?? 0), 0);
        expect(earned(deltas)).toBe(split.total);
        for (const x of split.shares.filter((s) => s.amount !== 0))
          expect(deltas).toContainEqual(expect.objectContaining({ channelId: x.channel_id, commission: x.amount }));
        const amount = Math.floor((split.total * pct) / 100);
        const r = refundPosting({
          event_id: "evt_r",
          order_id: "ord_1",
          channel_id: "chn_p9",
          at: 2,
          sale: posting.legs,
          refund: { id: "ref_1", amount, currency: "CNY", to: pay.method, gateway: null, was_fulfilled: true },
        });
        if (!r.ok) throw new Error("refund not posted");
        expect(earned(postingRollupDeltas(r.posting)) + amount).toBe(0);
        expect(postingRollupDeltas({ ...posting, type: "recognition" })).toEqual([]);
      }),
    );
  });

  it("top-ups and payouts balance", () => {
    const t = topUpPosting({
      event_id: "evt_t",
      channel_id: "chn_a",
      movement_id: "mov_1",
      amount: 500,
      currency: "CNY",
      at: 1,
    });
    expect(legsSum(t.legs)).toBe(0);
    expect(t.legs).toContainEqual(expect.objectContaining({ account: "chn_a:balance", amount: -500 }));
    expect(t.source_key).toBe("topup:chn_a:mov_1");
    const p = payoutPosting({ payout_id: "pyo_1", channel_id: "chn_a", amount: 70, currency: "CNY", at: 1 });
    expect(legsSum(p.legs)).toBe(0);
    expect(p.legs).toContainEqual(expect.objectContaining({ account: "chn_a:commission", amount: 70 }));
  });

  it("a sale's legs sum to zero and a full refund is its exact negative", () => {
    fc.assert(
      fc.property(lines, rules, payment, (ls, path, pay) => {
        const { posting, split } = sale(ls, path, pay);
        expect(legsSum(posting.legs)).toBe(0);
        const commission = posting.legs.filter((l) => l.kind === "commission").reduce((s, l) => s - l.amount, 0);
        expect(commission).toBe(split.shares.reduce((s, x) => s + x.amount, 0));
        const r = refundPosting({
          event_id: "evt_r",
          order_id: "ord_1",
          channel_id: "chn_p9",
          at: 2,
          sale: posting.legs,
          refund: {
            id: "ref_1",
            amount: split.total,
            currency: "CNY",
            to: pay.method,
            gateway: pay.method === "gateway" ? pay.gateway : null,
            was_fulfilled: true,
          },
        });
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(legsSum(r.posting.legs)).toBe(0);
        const net = new Map<string, number>();
        for (const l of [...posting.legs, ...r.posting.legs]) net.set(l.account, (net.get(l.account) ?? 0) + l.amount);
        for (const [, v] of net) expect(v).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("a partial refund balances and reverses no more than the sale", () => {
    fc.assert(
      fc.property(lines, rules, fc.double({ min: 0, max: 1, noNaN: true }), (ls, path, f) => {
        const { posting, split } = sale(ls, path, { method: "balance" });
        const amount = Math.floor(split.total * f);
        const r = refundPosting({
          event_id: "evt_r",
          order_id: "ord_1",
          channel_id: "chn_p9",
          at: 2,
          sale: posting.legs,
          refund: { id: "ref_1", amount, currency: "CNY", to: "balance", was_fulfilled: true },
        });
        if (!r.ok) throw new Error("expected a refund");
        expect(legsSum(r.posting.legs)).toBe(0);
        for (const l of r.posting.legs.filter((x: Leg) => x.kind === "commission")) {
          const sold = posting.legs.find((s) => s.account === l.account)!;
          expect(l.amount).toBeGreaterThanOrEqual(0);
          expect(l.amount).toBeLessThanOrEqual(-sold.amount);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a refund without a posted sale: pass-through for a late gateway payment, otherwise wait for the sale", () => {
    const base = { event_id: "evt_r", order_id: "ord_1", channel_id: "chn_a", at: 2, sale: null };
    const lateRefund = {
      id: "ref_1",
      amount: 300,
      currency: "CNY",
      to: "gateway" as const,
      gateway: "alipay",
      was_fulfilled: false,
    };
    expect(refundPosting({ ...base, refund: lateRefund })).toEqual({ ok: false, reason: "sale_not_posted" }); // waits for a late order.paid first
    const late = refundPosting({ ...base, refund: lateRefund, passthrough: true });
    expect(late.ok && late.posting.type).toBe("refund_passthrough");
    if (late.ok) {
      expect(legsSum(late.posting.legs)).toBe(0);
      expect(late.posting.legs.every((l) => l.account === "gateway:alipay:clearing")).toBe(true);
    }
    expect(
      refundPosting({
        ...base,
        passthrough: true,
        refund: { id: "ref_2", amount: 300, currency: "CNY", to: "balance", was_fulfilled: true },
      }),
    ).toEqual({ ok: false, reason: "sale_not_posted" });
    expect(
      refundPosting({
        ...base,
        passthrough: true,
        refund: { id: "ref_3", amount: 300, currency: "CNY", to: "gateway", was_fulfilled: true },
      }),
    ).toEqual({ ok: false, reason: "sale_not_posted" });
  });

  it("a sale defers the merchant's part and counts the units; a refund reverses the deferred share", () => {
    const { posting } = sale(
      [
        { product_id: "prd_a", quantity: 3, amount: 1000 },
        { product_id: "prd_b", quantity: 2, amount: 500 },
      ],
      [{ channel_id: "chn_p0", rule: { bps: 1000 } }],
      { method: "balance" },
    );
    expect(posting.units).toBe(5);
    expect(posting.legs.map((l) => [l.account, l.amount])).toEqual([
      ["chn_p9:balance", 1500],
      ["chn_p0:commission", -150],
      ["merchant:deferred_revenue", -1350],
    ]);
    expect(posting.legs.some((l) => l.account === "merchant:revenue")).toBe(false);
    const r = refundPosting({
      event_id: "evt_r",
      order_id: "ord_1",
      channel_id: "chn_p9",
      at: 2,
      sale: posting.legs,
      refund: { id: "ref_1", amount: 1500, currency: "CNY", to: "balance", was_fulfilled: true },
    });
    expect(r.ok && r.posting.legs.map((l) => [l.account, l.amount])).toEqual([
      ["chn_p9:balance", -1500],
      ["chn_p0:commission", 150],
      ["merchant:deferred_revenue", 1350],
    ]);
    // A sale posted before recognition on redemption (merchant revenue at sale) is reversed on revenue.
    const legacy = posting.legs.map((l) =>
      l.kind === "deferred_revenue" ? { ...l, account: "merchant:revenue", kind: "revenue" as const } : l,
    );
    const lr = refundPosting({
      event_id: "evt_r",
      order_id: "ord_1",
      channel_id: "chn_p9",
      at: 2,
      sale: legacy,
      refund: { id: "ref_1", amount: 1500, currency: "CNY", to: "balance", was_fulfilled: true },
    });
    expect(lr.ok && lr.posting.legs.at(-1)).toMatchObject({ account: "merchant:revenue", amount: 1350 });
  });
});
