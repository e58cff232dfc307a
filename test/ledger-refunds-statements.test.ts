/**
 * The ledger's refunds that arrive out of order (before their sale, a late gateway payment refunded, a refund
 * whose sale never comes), and a channel's statements: running balances, totals, CSV without formulas.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ledgerGatewaySales, ledgerParked } from "../src/db/ledger";
import { csvCell } from "../src/routes/statements";
import { createChannel, keyFor } from "./channel-fixtures";
import { call } from "./helpers";
import { deliver, entriesOf, ev, expectBalancedLedger, orderOf, paidEvent, txnCount } from "./ledger-fixtures";

describe("ledger: refunds out of order, statements", { timeout: 180_000 }, () => {
  it("a refund that arrives before its sale is parked (its projection commits) and posts once with the sale", async () => {
    const ch = await createChannel("Early", "partner");
    await call("PUT", `/v1/channels/${ch.id}/settlement`, { bps: 1000 });
    const early = ev(
      "order.refunded",
      {
        order: orderOf("ord_early", ch.id, 700, "refunded"),
        refund: { id: "ref_early", amount: 700, currency: "CNY", to: "balance", reason: "test", was_fulfilled: true },
      },
      "2026-03-01T12:00:00.000Z",
    );
    const result = await deliver([early]);
    expect(result.retryMessages).toEqual([]);
    expect(
      (await env.DB.prepare("SELECT status FROM orders WHERE id = 'ord_early'").first<{ status: string }>())!.status,
    ).toBe("refunded");
    expect(await txnCount(ch.id)).toBe(0);
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_pending WHERE order_id = 'ord_early'").first<{
        n: number;
      }>())!.n,
    ).toBe(1);
    await deliver([early]); // redelivered while parked: still parked once, nothing posted
    await deliver([paidEvent("ord_early", ch.id, 700)]);
    await deliver([early, paidEvent("ord_early", ch.id, 700)]);
    expect((await entriesOf("ord_early")).map((e) => [e.type, e.account_id, e.amount])).toEqual([
      ["refund", `${ch.id}:balance`, -700],
      ["refund", `${ch.id}:commission`, 70],
      ["refund", "merchant:deferred_revenue", 630],
      ["sale", `${ch.id}:balance`, 700],
      ["sale", `${ch.id}:commission`, -70],
      ["sale", "merchant:deferred_revenue", -630],
    ]);
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_pending WHERE order_id = 'ord_early'").first<{
        n: number;
      }>())!.n,
    ).toBe(0);
    // A late gateway payment refunded, as checkout emits it (order.paid, then the refund): sale and reversal.
    const lateRefund = (orderId: string) =>
      ev("order.refunded", {
        order: orderOf(orderId, ch.id, 450, "refunded"),
        refund: {
          id: `ref_${orderId}`,
          amount: 450,
          currency: "CNY",
          to: "gateway",
          gateway: "sandbox",
          reason: "paid_after_expiry_out_of_stock",
          was_fulfilled: false,
        },
      });
    const latePaid = ev("order.paid", {
      order: orderOf("ord_late_pay", ch.id, 450),
      payment: { method: "gateway", gateway: "sandbox", payment_id: "pi_1", amount: 450, currency: "CNY" },
    });
    await deliver([latePaid, lateRefund("ord_late_pay")]);
    expect((await entriesOf("ord_late_pay")).map((e) => [e.type, e.account_id, e.amount])).toEqual([
      ["refund", "gateway:sandbox:clearing", -450],
      ["refund", `${ch.id}:commission`, 45],
      ["refund", "merchant:deferred_revenue", 405],
      ["sale", "gateway:sandbox:clearing", 450],
      ["sale", `${ch.id}:commission`, -45],
      ["sale", "merchant:deferred_revenue", -405],
    ]);
    expect(await ledgerGatewaySales(env.DB, Date.parse("2026-03-01"), Date.parse("2026-03-02"))).toContainEqual({
      currency: "CNY",
      gateway: "sandbox",
      amount: 450,
    });
    // Its order.paid never arrives: parked for the grace period, then a pass-through on the clearing account.
    await deliver([lateRefund("ord_no_sale")]);
    expect(await entriesOf("ord_no_sale")).toEqual([]);
    await env.DB.prepare("UPDATE ledger_pending SET passthrough_after = 0 WHERE order_id = 'ord_no_sale'").run();
    await deliver([ev("order.fulfilled", { order: orderOf("ord_unrelated", ch.id, 1) })]);
    expect((await entriesOf("ord_no_sale")).map((e) => [e.type, e.account_id, e.amount])).toEqual([
      ["refund_passthrough", "gateway:sandbox:clearing", 450],
      ["refund_passthrough", "gateway:sandbox:clearing", -450],
    ]);
    expect((await ledgerParked(env.DB)).filter((p) => p.order_id === "ord_no_sale")).toEqual([]);
    await expectBalancedLedger();
  });
  it("statements: opening, entries with running balance, closing, totals; CSV with quoting and no formulas", async () => {
    const ch = await createChannel("Statement", "partner");
    await call("PUT", `/v1/channels/${ch.id}/settlement`, { bps: 500 });
    await deliver([
      ev(
        "balance.topped_up",
        { channel_id: ch.id, movement_id: "mov_st1", amount: 10_000, currency: "CNY", balance: 10_000 },
        "2026-02-20T00:00:00.000Z",
      ),
      paidEvent("ord_st1", ch.id, 2000, "2026-03-02T00:00:00.000Z"),
      paidEvent("ord_st2", ch.id, 999, "2026-03-03T00:00:00.000Z"),
      paidEvent("ord_st3", ch.id, 500, "2026-04-02T00:00:00.000Z"),
    ]);
    const key = await keyFor(ch.id, ["ledger:read"]);
    const res = await call("GET", `/v1/channels/${ch.id}/statements?from=2026-03-01&to=2026-04-01`, undefined, {
      token: key,
    });
    expect(res.status).toBe(200);
    const balance = res.json.accounts.find((a: any) => a.account === "balance");
    expect(balance).toMatchObject({
      currency: "CNY",
      opening_balance: 10_000,
      closing_balance: 10_000 - 2999,
      totals: { credits: 0, debits: -2999, net: -2999 },
    });
    expect(balance.entries.map((e: any) => [e.type, e.order_id, e.amount, e.running_balance])).toEqual([
      ["sale", "ord_st1", -2000, 8000],
      ["sale", "ord_st2", -999, 7001],
    ]);
    const commission = res.json.accounts.find((a: any) => a.account === "commission");
    expect(commission).toMatchObject({ opening_balance: 0, closing_balance: 100 + 49 });

    const csv = await call("GET", `/v1/channels/${ch.id}/statements?from=2026-03-01&to=2026-04-01`, undefined, {
      token: key,
      headers: { accept: "text/csv" },
    });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = csv.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe("account,currency,time,transaction_id,type,order_id,memo,amount,running_balance");
    expect(lines).toContain(`balance,CNY,2026-03-01T00:00:00.000Z,,opening_balance,,,,100.00`);
    expect(lines.some((l) => l.includes(",sale,ord_st2,sale (balance),-9.99,70.01"))).toBe(true);
    expect(
      (await call("GET", `/v1/channels/${ch.id}/statements?format=csv`, undefined, { token: key })).text.split("\r\n")
        .length,
    ).toBeGreaterThan(lines.length);
    expect([
      csvCell("=1+2"),
      csvCell("@SUM(A1)"),
      csvCell('a,"b"'),
      csvCell("+x"),
      csvCell("line\nbreak"),
      csvCell(null),
    ]).toEqual(["'=1+2", "'@SUM(A1)", '"a,""b"""', "'+x", '"line\nbreak"', ""]);
    expect([csvCell("-69.00"), csvCell(-5), csvCell("-1+1"), csvCell("-A1")]).toEqual([
      "-69.00",
      "-5",
      "'-1+1",
      "'-A1",
    ]);

    // Subtree scope: another subtree's channel answers 404; bad periods 400.
    const other = await createChannel("Other", "partner");
    expect((await call("GET", `/v1/channels/${other.id}/statements`, undefined, { token: key })).status).toBe(404);
    expect(
      (await call("GET", `/v1/channels/${ch.id}/statements?from=2026-04-01&to=2026-03-01`, undefined, { token: key }))
        .status,
    ).toBe(400);
    expect(
      (await call("GET", `/v1/channels/${ch.id}/statements?from=yesterday`, undefined, { token: key })).status,
    ).toBe(400);
  });
});
