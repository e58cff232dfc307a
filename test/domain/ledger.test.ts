/** The posting builders: every posting's legs sum to zero; refunds are exact negatives of the sale. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Leg, legsSum, payoutPosting, refundPosting, salePosting, topUpPosting } from "../../src/domain/ledger";
import { recognitionAmount, recognitionPosting, recognitionReversal } from "../../src/domain/revenue-recognition";
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

  it("recognition: floor(share / units) per unit, the last unit takes the rest, a reversal is the exact negative", () => {
    const share = 1000,
      units = 3;
    expect(recognitionAmount({ share, units, active: 0, recognised: 0 })).toBe(333);
    expect(recognitionAmount({ share, units, active: 1, recognised: 333 })).toBe(333);
    expect(recognitionAmount({ share, units, active: 2, recognised: 666 })).toBe(334);
    // One reversed (333 back), then redeemed again: still not the last unit.
    expect(recognitionAmount({ share, units, active: 1, recognised: 334 })).toBe(333);
    expect(recognitionAmount({ share, units, active: 2, recognised: 667 })).toBe(333);
    expect(recognitionAmount({ share: 2, units: 3, active: 0, recognised: 0 })).toBe(0);
    expect(recognitionAmount({ share: 2, units: 3, active: 2, recognised: 0 })).toBe(2);
    expect(recognitionAmount({ share: 0, units: 3, active: 2, recognised: 0 })).toBe(0);
    expect(recognitionAmount({ share: 10, units: 1, active: 1, recognised: 10 })).toBe(0); // never more than the share
    const p = recognitionPosting({
      redemption_id: "rdm_1",
      event_id: "evt_1",
      order_id: "ord_1",
      channel_id: "chn_a",
      currency: "CNY",
      amount: 334,
      at: 5,
    });
    expect(p.source_key).toBe("recognise:rdm_1");
    expect(p.legs.map((l) => [l.account, l.amount])).toEqual([
      ["merchant:deferred_revenue", 334],
      ["merchant:revenue", -334],
    ]);
    const back = recognitionReversal(
      "rdm_1",
      "evt_2",
      { order_id: "ord_1", channel_id: "chn_a", currency: "CNY", legs: p.legs },
      6,
    );
    expect(back.source_key).toBe("unrecognise:rdm_1");
    expect(back.legs.map((l) => [l.account, l.amount])).toEqual([
      ["merchant:deferred_revenue", -334],
      ["merchant:revenue", 334],
    ]);
    expect(
      recognitionPosting({
        redemption_id: "rdm_0",
        event_id: "e",
        order_id: "o",
        channel_id: "c",
        currency: "CNY",
        amount: 0,
        at: 1,
      }).legs,
    ).toEqual([]);
  });

  it("any sequence of redemptions and reversals keeps 0 ≤ recognised ≤ share; every unit redeemed ⇒ recognised = share", () => {
    const ops = fc.array(fc.record({ code: fc.nat(), reverse: fc.boolean() }), { maxLength: 60 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 12 }), ops, (share, units, seq) => {
        const posted = new Map<number, number>(); // code → what its redemption recognised
        let recognised = 0;
        for (const { code, reverse } of seq) {
          const i = code % units;
          if (reverse && posted.has(i)) {
            const back = recognitionReversal(
              `rdm_${i}`,
              "evt",
              {
                order_id: "ord",
                channel_id: null,
                currency: "CNY",
                legs: recognitionPosting({
                  redemption_id: `rdm_${i}`,
                  event_id: "e",
                  order_id: "ord",
                  channel_id: "c",
                  currency: "CNY",
                  amount: posted.get(i)!,
                  at: 1,
                }).legs,
              },
              2,
            );
            recognised -= back.legs.find((l) => l.kind === "revenue")?.amount ?? 0; // a debit on revenue: less recognised
            posted.delete(i);
          } else if (!reverse && !posted.has(i)) {
            const amount = recognitionAmount({ share, units, active: posted.size, recognised });
            expect(amount).toBeGreaterThanOrEqual(0);
            const p = recognitionPosting({
              redemption_id: `rdm_${i}`,
              event_id: "e",
              order_id: "ord",
              channel_id: "c",
              currency: "CNY",
              amount,
              at: 1,
            });
            expect(legsSum(p.legs)).toBe(0);
            posted.set(i, amount);
            recognised += amount;
          }
          expect(recognised).toBeGreaterThanOrEqual(0);
          expect(recognised).toBeLessThanOrEqual(share);
          expect(recognised).toBe([...posted.values()].reduce((a, b) => a + b, 0));
          if (posted.size === units) expect(recognised).toBe(share);
        }
        // Redeem whatever is left: the order then recognises exactly its share.
        for (let i = 0; i < units; i++)
          if (!posted.has(i)) {
            const a = recognitionAmount({ share, units, active: posted.size, recognised });
            posted.set(i, a);
            recognised += a;
          }
        expect(recognised).toBe(share);
      }),
      { numRuns: 500 },
    );
  });
});
