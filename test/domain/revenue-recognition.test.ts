/**
 * Revenue recognition postings: a unit's share on redemption (the last unit takes the rest), exact reversals,
 * and 0 ≤ recognised ≤ share whatever the sequence.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { legsSum } from "../../src/domain/ledger";
import { recognitionAmount, recognitionPosting, recognitionReversal } from "../../src/domain/revenue-recognition";

describe("revenue recognition postings", () => {
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
