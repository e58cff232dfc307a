import { describe, expect, it } from "vitest";
import { dayBounds, previousDay, type ReconciliationInput, reconcile } from "../../src/domain/reconciliation";

const clean = (): ReconciliationInput => ({
  pools: [
    {
      product_id: "prd_a",
      shard: 0,
      truth: { issued: 5, redeemed: 2, voided: 0 },
      projected: { issued: 5, redeemed: 2, voided: 0 },
      caught_up: true,
    },
  ],
  channels: [{ channel_id: "chn_a", truth_balance: 1000, ledger_balance: 1000, caught_up: true }],
  payments: [
    {
      order_id: "ord_a",
      gateway: "stripe",
      currency: "CNY",
      notice_amount: 3000,
      ledger_amount: 3000,
      projected_status: "fulfilled",
      caught_up: true,
    },
  ],
  ledger: [{ currency: "CNY", sum: 0, unbalanced_transactions: 0 }],
});

describe("reconcile", () => {
  it("is ok when every side agrees", () => {
    expect(reconcile(clean())).toMatchObject({
      status: "ok",
      differences: [],
      lagging: [],
      checked: { pools: 1, channels: 1, payments: 1, currencies: 1 },
    });
  });

  it("lists each difference with both sides", () => {
    const input = clean();
    input.pools[0].projected.redeemed = 1;
    input.channels[0].ledger_balance = 900;
    input.payments[0].ledger_amount = 2500;
    input.payments.push({
      order_id: "ord_b",
      gateway: "alipay",
      currency: "CNY",
      notice_amount: 100,
      ledger_amount: 100,
      projected_status: "cancelled",
      caught_up: true,
    });
    input.ledger[0] = { currency: "CNY", sum: 7, unbalanced_transactions: 1 };
    const out = reconcile(input);
    expect(out.status).toBe("mismatch");
    expect(out.differences.map((d) => d.kind)).toEqual([
      "code_counts",
      "channel_balance",
      "payment_vs_ledger",
      "payment_vs_order",
      "ledger_unbalanced",
    ]);
    expect(out.differences[1]).toMatchObject({ subject: "channel:chn_a", expected: 1000, actual: 900 });
  });

  it("reports a source whose events are still queued as lagging, not as a mismatch", () => {
    const input = clean();
    input.pools[0] = { ...input.pools[0], projected: { issued: 4, redeemed: 2, voided: 0 }, caught_up: false };
    input.channels[0] = { ...input.channels[0], ledger_balance: 0, caught_up: false };
    input.payments[0] = {
      ...input.payments[0],
      ledger_amount: 0,
      projected_status: "pending_payment",
      caught_up: false,
    };
    const out = reconcile(input);
    expect(out).toMatchObject({
      status: "lagging",
      differences: [],
      lagging: ["sku:prd_a:0", "channel:chn_a", "order:ord_a"],
    });
  });

  it("flags a gateway refund of an order still delivered, not one of an order refunded or never paid", () => {
    const input = clean();
    input.gatewayRefunds = [
      { order_id: "ord_r1", gateway: "stripe", amount: 500, projected_status: "fulfilled", caught_up: true },
      { order_id: "ord_r2", gateway: "stripe", amount: 500, projected_status: "refunded", caught_up: true },
      { order_id: "ord_r3", gateway: "alipay", amount: 500, projected_status: "pending_payment", caught_up: true },
      { order_id: "ord_r4", gateway: "wechat", amount: 500, projected_status: "fulfilled", caught_up: false },
    ];
    const out = reconcile(input);
    expect(out.differences).toEqual([
      expect.objectContaining({ kind: "gateway_refund_unapplied", subject: "order:ord_r1", expected: 500, actual: 0 }),
    ]);
    expect(out.lagging).toEqual(["order:ord_r4"]);
  });

  it("computes UTC day bounds and the previous day", () => {
    expect(dayBounds("2026-11-24")).toEqual({
      start: Date.parse("2026-11-24T00:00:00Z"),
      end: Date.parse("2026-11-25T00:00:00Z"),
    });
    expect(previousDay(Date.parse("2026-11-25T00:15:00Z"))).toBe("2026-11-24");
  });
});
