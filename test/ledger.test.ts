/**
 * The ledger on the real local queue: a concurrent mixed workload leaves a balanced ledger that matches the
 * ChannelAccounts and the split rules; redelivery and a poisoned message never post twice; statements and CSV.
 */

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ledgerChannelBalances,
  ledgerGatewaySales,
  ledgerParked,
  ledgerRecognition,
  ledgerTotals,
} from "../src/db/ledger";
import { ROOT_CHANNEL_ID } from "../src/domain/ids";
import worker from "../src/index";
import type { DomainEvent } from "../src/objects/outbox";
import { ledgerStatements } from "../src/queues/ledger";
import { csvCell } from "../src/routes/statements";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";

let seq = 0;
const ev = (
  type: string,
  data: Record<string, unknown>,
  at = "2026-03-01T10:00:00.000Z",
  id = `evt_led${Date.now().toString(36)}${++seq}`,
): DomainEvent => ({ id, type, created_at: at, source: "channel:test", seq, data });
const orderOf = (id: string, channelId: string, amount: number, status = "fulfilled") => ({
  id,
  channel_id: channelId,
  status,
  customer_ref: null,
  external_ref: null,
  currency: "CNY",
  total_amount: amount,
  failure_reason: null,
  created_at: "2026-03-01T10:00:00.000Z",
  updated_at: "2026-03-01T10:00:00.000Z",
  items: [{ product_id: "prd_led", quantity: 1, unit_price: amount, amount }],
});
/** A SkuPool's event (its source names the pool: the redemptions projection reads product and shard from it). */
const poolEv = (type: string, data: Record<string, unknown>): DomainEvent => ({
  ...ev(type, data),
  source: "sku:prd_led:0",
});
const paidEvent = (orderId: string, channelId: string, amount: number, at?: string) =>
  ev(
    "order.paid",
    { order: orderOf(orderId, channelId, amount), payment: { method: "balance", amount, currency: "CNY" } },
    at,
  );

async function deliver(events: DomainEvent[]) {
  const batch = createMessageBatch(
    "voucher-events",
    events.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<DomainEvent>, env, ctx);
  return getQueueResult(batch, ctx);
}

const entriesOf = async (orderId: string) =>
  (
    await env.DB.prepare(
      "SELECT t.type, e.account_id, e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id WHERE t.order_id = ?1 ORDER BY t.type, e.line",
    )
      .bind(orderId)
      .all<{ type: string; account_id: string; amount: number }>()
  ).results;
const txnCount = async (channelId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_transactions WHERE channel_id = ?1")
    .bind(channelId)
    .first<{ n: number }>())!.n;

async function expectBalancedLedger() {
  for (const t of await ledgerTotals(env.DB)) expect(t).toMatchObject({ total: 0, unbalanced_transactions: 0 });
}

describe("ledger", { timeout: 180_000 }, () => {
  it("a concurrent mixed workload: balanced, equal to the ChannelAccounts, commissions by rule", async () => {
    const price = 333;
    const product = await productWithCodes(120, { price });
    const nat = await createChannel("National", "agent");
    const natKey = await keyFor(nat.id);
    const prov = await createChannel("Province", "agent", nat.id, natKey);
    const provKey = await keyFor(prov.id);
    const store = await createChannel("Store", "store", prov.id, provKey);
    const partner = await createChannel("Partner", "partner");
    await setEntry(nat.id, product.id, {});
    await setEntry(prov.id, product.id, {}, natKey);
    await setEntry(store.id, product.id, {}, provKey);
    await setEntry(partner.id, product.id, {});
    await allocate(product.id, nat.id, 60);
    await allocate(product.id, prov.id, 60, natKey);
    await allocate(product.id, store.id, 60, provKey);
    await allocate(product.id, partner.id, 60);
    // Commission rules are the merchant's to set (ledger:write is never on a channel key).
    const rules: [string, Record<string, unknown>][] = [
      [nat.id, { bps: 200 }],
      [prov.id, { bps: 300 }],
      [store.id, { bps: 800 }],
      [partner.id, { fixed_per_unit: 7, cap: 10 }],
    ];
    for (const [id, rule] of rules) expect((await call("PUT", `/v1/channels/${id}/settlement`, rule)).status).toBe(200);
    await topUp(store.id, price * 10, provKey);
    await topUp(partner.id, price * 8);
    await call("PATCH", `/v1/channels/${partner.id}`, { credit_limit: price * 6 }); // the partner's balance goes below zero
    const [storeKey, partnerKey] = await Promise.all([keyFor(store.id), keyFor(partner.id)]);
    const settledBefore = (await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM processed_events WHERE type = 'settlement.posted'",
    ).first<{ n: number }>())!.n;
    const work = await Promise.all([
      ...Array.from({ length: 25 }, (_, i) =>
        orderAs(storeKey, product.id, 1 + (i % 2)).then((r) => ({ ch: store.id, r })),
      ),
      ...Array.from({ length: 25 }, (_, i) =>
        orderAs(partnerKey, product.id, 1 + (i % 2)).then((r) => ({ ch: partner.id, r })),
      ),
      ...Array.from({ length: 4 }, () => topUp(store.id, price * 3, provKey).then((r) => ({ ch: "topup", r }))),
      ...Array.from({ length: 2 }, () => topUp(partner.id, price * 2).then((r) => ({ ch: "topup", r }))),
    ]);
    expect(work.filter((w) => w.ch === "topup").every((w) => w.r.status === 200)).toBe(true);
    const paid = work.filter((w) => w.ch !== "topup" && w.r.status === 201);
    expect(paid.length).toBeGreaterThan(20);
    expect(
      work
        .filter((w) => w.ch !== "topup" && w.r.status !== 201)
        .every((w) => w.r.json.error.code === "insufficient_balance"),
    ).toBe(true);

    const doBalance = async (id: string) => (await call("GET", `/v1/channels/${id}/balance`)).json.balance as number;
    const ledgerBalance = async (id: string) => (await ledgerChannelBalances(env.DB, id))[0]?.balance ?? 0;
    for (const ch of [store, partner]) {
      const target = await doBalance(ch.id);
      expect(
        await eventually(
          () => ledgerBalance(ch.id),
          (b) => b === target,
          30_000,
        ),
      ).toBe(target);
    }
    expect(await doBalance(partner.id)).toBeLessThan(0);
    await eventually(
      async () =>
        (await env.DB.prepare(
          "SELECT COUNT(*) AS n FROM ledger_transactions WHERE type = 'sale' AND order_id IN (SELECT value FROM json_each(?1))",
        )
          .bind(JSON.stringify(paid.map((p) => p.r.json.id)))
          .first<{ n: number }>())!.n,
      (n) => n === paid.length,
      30_000,
    );
    await expectBalancedLedger();

    // Commissions: each channel's rule applied to every paid order on its path, floored per line.
    const floorBps = (amount: number, bps: number) => Math.floor((amount * bps) / 10_000);
    const want = new Map<string, number>([
      [nat.id, 0],
      [prov.id, 0],
      [store.id, 0],
      [partner.id, 0],
    ]);
    let merchant = 0;
    for (const { ch, r } of paid) {
      const amount = r.json.total_amount as number;
      const qty = r.json.items[0].quantity as number;
      const shares =
        ch === store.id
          ? { [nat.id]: floorBps(amount, 200), [prov.id]: floorBps(amount, 300), [store.id]: floorBps(amount, 800) }
          : { [partner.id]: Math.min(7 * qty, 10) };
      for (const [id, s] of Object.entries(shares)) want.set(id, want.get(id)! + s);
      merchant += amount - Object.values(shares).reduce((a, b) => a + b, 0);
    }
    for (const [id, amount] of want) expect((await ledgerChannelBalances(env.DB, id))[0]?.commission ?? 0).toBe(amount);
    const revenue = await env.DB.prepare(
      "SELECT -SUM(e.amount) AS r FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id WHERE e.account_id = 'merchant:deferred_revenue' AND t.order_id IN (SELECT value FROM json_each(?1))",
    )
      .bind(JSON.stringify(paid.map((p) => p.r.json.id)))
      .first<{ r: number }>();
    expect(revenue!.r).toBe(merchant);
    // One settlement.posted per paid order, with a deterministic id (so exactly one per order even if sent again).
    const settled = () =>
      env.DB.prepare("SELECT COUNT(*) AS n FROM processed_events WHERE type = 'settlement.posted'")
        .first<{ n: number }>()
        .then((r) => r!.n - settledBefore);
    expect(await eventually(settled, (n) => n >= paid.length, 30_000)).toBe(paid.length);
  });

  it("redelivery posts once, even when processed_events is bypassed", async () => {
    const ch = await createChannel("Redelivery", "partner");
    await call("PUT", `/v1/channels/${ch.id}/settlement`, { bps: 1000 });
    const events = [
      ev("balance.topped_up", {
        channel_id: ch.id,
        movement_id: "mov_redeliver",
        amount: 5000,
        currency: "CNY",
        balance: 5000,
      }),
      paidEvent("ord_redeliver", ch.id, 1999),
      ev(
        "order.refunded",
        {
          order: orderOf("ord_redeliver", ch.id, 1999, "refunded"),
          refund: {
            id: "ref_redeliver",
            amount: 1999,
            currency: "CNY",
            to: "balance",
            reason: "test",
            was_fulfilled: true,
          },
        },
        "2026-03-01T11:00:00.000Z",
      ),
    ];
    await deliver(events);
    await deliver(events);
    await deliver([...events].reverse());
    await env.DB.prepare("DELETE FROM processed_events WHERE event_id IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(events.map((e) => e.id)))
      .run();
    await deliver(events);
    await deliver([paidEvent("ord_redeliver", ch.id, 1999)]); // a second order.paid for the same order (another event id)
    expect(await txnCount(ch.id)).toBe(3);
    const entries = await entriesOf("ord_redeliver");
    expect(entries.filter((e) => e.type === "sale").map((e) => [e.account_id, e.amount])).toEqual([
      [`${ch.id}:balance`, 1999],
      [`${ch.id}:commission`, -199],
      ["merchant:deferred_revenue", -1800],
    ]);
    expect(entries.filter((e) => e.type === "refund").map((e) => [e.account_id, e.amount])).toEqual([
      [`${ch.id}:balance`, -1999],
      [`${ch.id}:commission`, 199],
      ["merchant:deferred_revenue", 1800],
    ]);
    expect(await ledgerChannelBalances(env.DB, ch.id)).toEqual([
      { channel_id: ch.id, currency: "CNY", balance: 5000, commission: 0 },
    ]);
    await expect(
      env.DB.prepare("UPDATE ledger_entries SET amount = 0 WHERE account_id = ?1").bind(`${ch.id}:balance`).run(),
    ).rejects.toThrow(/append-only/);
    await expectBalancedLedger();
  });

  it("a poisoned message is retried alone; the others post once; its ledger rows roll back with its projection", async () => {
    const ch = await createChannel("Poison", "partner");
    const good = [
      ev("balance.topped_up", {
        channel_id: ch.id,
        movement_id: "mov_poison",
        amount: 800,
        currency: "CNY",
        balance: 800,
      }),
      paidEvent("ord_poison_ok", ch.id, 300),
    ];
    // Its projection cannot be written (no created_at): the whole event, ledger rows included, must not commit.
    const poisoned = ev("order.paid", {
      order: { ...orderOf("ord_poison_bad", ch.id, 200), created_at: undefined },
      payment: { method: "balance", amount: 200, currency: "CNY" },
    });
    const tail = paidEvent("ord_poison_ok2", ch.id, 100);
    const first = await deliver([good[0], poisoned, good[1], tail]);
    expect(first.explicitAcks.sort()).toEqual(["m0", "m2", "m3"]);
    expect(first.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["m1"]);
    expect(await txnCount(ch.id)).toBe(3);
    expect(await entriesOf("ord_poison_bad")).toEqual([]);
    const again = await deliver([good[0], poisoned, good[1], tail]);
    expect(again.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["m1"]);
    expect(await txnCount(ch.id)).toBe(3);
    expect((await ledgerChannelBalances(env.DB, ch.id))[0].balance).toBe(800 - 300 - 100);
    await expectBalancedLedger();
  });

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

  it("consumers racing on overlapping, shuffled batches of sales and refunds post each exactly once", async () => {
    const agent = await createChannel("RaceAgent", "agent");
    const agentKey = await keyFor(agent.id);
    const shop = await createChannel("RaceShop", "store", agent.id, agentKey);
    await call("PUT", `/v1/channels/${agent.id}/settlement`, { bps: 250 });
    await call("PUT", `/v1/channels/${shop.id}/settlement`, { bps: 700, fixed_per_unit: 3 });
    const amounts = Array.from({ length: 30 }, (_, i) => 101 + i * 37);
    const sales = amounts.map((a, i) => paidEvent(`ord_race${i}`, shop.id, a));
    const refunds = amounts.flatMap((a, i) =>
      i % 3 === 0
        ? [
            ev(
              "order.refunded",
              {
                order: orderOf(`ord_race${i}`, shop.id, a, "refunded"),
                refund: {
                  id: `ref_race${i}`,
                  amount: i % 2 ? a : Math.floor(a / 3),
                  currency: "CNY",
                  to: "balance",
                  reason: "test",
                  was_fulfilled: true,
                },
              },
              "2026-03-01T12:00:00.000Z",
            ),
          ]
        : [],
    );
    const all = [...sales, ...refunds];
    const shuffled = (k: number) =>
      [...all].sort(
        (x, y) =>
          ((x.id.charCodeAt(x.id.length - 1) * (k + 7)) % 13) - ((y.id.charCodeAt(y.id.length - 1) * (k + 7)) % 13),
      );
    await Promise.all(Array.from({ length: 6 }, (_, k) => deliver(shuffled(k).slice(k * 5, k * 5 + 25))));
    for (let round = 0; round < 3; round++) await Promise.all([deliver(all), deliver([...all].reverse())]);
    const counts = await env.DB.prepare(
      "SELECT type, COUNT(*) AS n FROM ledger_transactions WHERE channel_id = ?1 GROUP BY type ORDER BY type",
    )
      .bind(shop.id)
      .all<{ type: string; n: number }>();
    expect(counts.results).toEqual([
      { type: "refund", n: refunds.length },
      { type: "sale", n: sales.length },
    ]);
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_pending WHERE order_id LIKE 'ord_race%'").first<{
        n: number;
      }>())!.n,
    ).toBe(0);
    const shopShare = (a: number) => Math.floor((a * 700) / 10_000) + 3;
    const sold = amounts.reduce((s, a) => s + a, 0);
    const refunded = amounts.reduce((s, a, i) => s + (i % 3 === 0 ? (i % 2 ? a : Math.floor(a / 3)) : 0), 0);
    const shopCommission = amounts.reduce((s, a, i) => {
      const share = shopShare(a);
      if (i % 3 !== 0) return s + share;
      return s + share - (i % 2 ? share : Math.floor((share * Math.floor(a / 3)) / a));
    }, 0);
    expect(await ledgerChannelBalances(env.DB, shop.id)).toEqual([
      { channel_id: shop.id, currency: "CNY", balance: -sold + refunded, commission: shopCommission },
    ]);
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

  it("recognition on redemption: 3 codes redeemed at once recognise exactly the share; a reversal takes back its part; redelivery posts once", async () => {
    const product = await productWithCodes(10, { price: 334 });
    const ch = await createChannel("Recognise", "partner");
    await setEntry(ch.id, product.id, {});
    await allocate(product.id, ch.id, 5);
    await call("PUT", `/v1/channels/${ch.id}/settlement`, { bps: 1000 });
    await topUp(ch.id, 5000);
    const o = await orderAs(await keyFor(ch.id), product.id, 3);
    expect(o.status).toBe(201);
    const orderId = o.json.id as string;
    const share = 1002 - 100; // 10 % commission; the merchant's 902 is deferred at sale
    expect(
      await eventually(
        () => ledgerRecognition(env.DB, orderId),
        (r) => r.deferred === share,
      ),
    ).toEqual({ deferred: share, recognised: 0 });
    const redeemed = await Promise.all(
      (o.json.items[0].codes as { code: string }[]).map((c) => call("POST", "/v1/redemptions", { code: c.code })),
    );
    expect(redeemed.map((r) => r.status)).toEqual([201, 201, 201]);
    // A later batch (any event) posts a recognition that lost a race with another consumer and was parked: nudge with an empty one.
    const settled = await eventually(
      async () => {
        await deliver([]);
        return ledgerRecognition(env.DB, orderId);
      },
      (r) => r.recognised === share,
      30_000,
    );
    expect(settled).toEqual({ deferred: 0, recognised: share });
    const recognitions = async () =>
      (
        await env.DB.prepare(
          `SELECT t.source_key, -e.amount AS amount FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id
       WHERE t.order_id = ?1 AND t.type LIKE 'recognition%' AND e.account_id = 'merchant:revenue' ORDER BY t.source_key`,
        )
          .bind(orderId)
          .all<{ source_key: string; amount: number }>()
      ).results;
    expect((await recognitions()).map((r) => r.amount).sort()).toEqual([300, 300, 302]); // floor(902 / 3) twice, the last unit the rest
    // Reverse one: revenue drops by exactly what that redemption recognised.
    const victim = redeemed[1].json.id as string;
    const itsPart = (await recognitions()).find((r) => r.source_key === `recognise:${victim}`)!.amount;
    expect((await call("POST", `/v1/redemptions/${victim}/reverse`)).status).toBe(200);
    expect(
      await eventually(
        () => ledgerRecognition(env.DB, orderId),
        (r) => r.recognised === share - itsPart,
      ),
    ).toEqual({ deferred: itsPart, recognised: share - itsPart });
    expect((await recognitions()).find((r) => r.source_key === `unrecognise:${victim}`)!.amount).toBe(-itsPart);
    // Redelivery (new event ids, same redemptions: the source keys dedupe) posts nothing more.
    const again = [
      ...redeemed.map((r) =>
        poolEv("code.redeemed", {
          redemption_id: r.json.id,
          order_id: orderId,
          channel_id: ch.id,
          last4: "0000",
          code_index: "x",
          redeemed_at: "2026-03-01T10:00:00.000Z",
        }),
      ),
      poolEv("code.redemption_reversed", {
        redemption_id: victim,
        order_id: orderId,
        last4: "0000",
        code_index: "x",
        reversed_at: "2026-03-01T10:01:00.000Z",
      }),
    ];
    expect((await deliver(again)).retryMessages).toEqual([]);
    await deliver([...again].reverse());
    expect((await recognitions()).length).toBe(4);
    expect(await ledgerRecognition(env.DB, orderId)).toEqual({ deferred: itsPart, recognised: share - itsPart });
    // Redeemed again: the last unit again takes the rest, the order recognises its share exactly.
    const code = (o.json.items[0].codes as { code: string }[])[1].code;
    expect((await call("POST", "/v1/redemptions", { code })).status).toBe(201);
    expect(
      await eventually(
        () => ledgerRecognition(env.DB, orderId),
        (r) => r.recognised === share,
      ),
    ).toEqual({ deferred: 0, recognised: share });
    await expectBalancedLedger();
  });

  it("a redemption before its sale is parked, then posted; in one batch a reversal and two redemptions post in sequence; root orders post nothing", async () => {
    const ch = await createChannel("RecogniseEarly", "partner");
    await call("PUT", `/v1/channels/${ch.id}/settlement`, { bps: 1000 });
    const twoUnits = (id: string, status = "fulfilled", channelId = ch.id) => ({
      ...orderOf(id, channelId, 700, status),
      items: [{ product_id: "prd_led", quantity: 2, unit_price: 350, amount: 700 }],
    });
    const redeem = (rid: string, orderId: string) =>
      poolEv("code.redeemed", {
        redemption_id: rid,
        order_id: orderId,
        channel_id: ch.id,
        last4: "1234",
        code_index: `i_${rid}`,
        redeemed_at: "2026-03-01T10:05:00.000Z",
      });
    const reverse = (rid: string, orderId: string) =>
      poolEv("code.redemption_reversed", {
        redemption_id: rid,
        order_id: orderId,
        last4: "1234",
        code_index: `i_${rid}`,
        reversed_at: "2026-03-01T10:06:00.000Z",
      });
    const parkedFor = async (orderId: string) => (await ledgerParked(env.DB)).filter((p) => p.order_id === orderId);
    const early = redeem("rdm_early1", "ord_rec_early");
    expect((await deliver([early])).retryMessages).toEqual([]);
    await deliver([early]); // redelivered while parked: parked once
    expect((await parkedFor("ord_rec_early")).map((p) => p.reason)).toEqual(["redemption_before_sale"]);
    expect(await entriesOf("ord_rec_early")).toEqual([]);
    await deliver([
      ev("order.paid", {
        order: twoUnits("ord_rec_early"),
        payment: { method: "balance", amount: 700, currency: "CNY" },
      }),
    ]);
    expect(await parkedFor("ord_rec_early")).toEqual([]);
    expect(await ledgerRecognition(env.DB, "ord_rec_early")).toEqual({ deferred: 630 - 315, recognised: 315 });
    // One batch: the early one reversed, two more redeemed (2 units): −315, +315, then the last unit +315.
    await deliver([
      reverse("rdm_early1", "ord_rec_early"),
      redeem("rdm_early2", "ord_rec_early"),
      redeem("rdm_early3", "ord_rec_early"),
    ]);
    expect(
      (await entriesOf("ord_rec_early"))
        .filter((e) => e.account_id === "merchant:revenue")
        .map((e) => [e.type, e.amount]),
    ).toEqual([
      ["recognition", -315],
      ["recognition", -315],
      ["recognition", -315],
      ["recognition_reversal", 315],
    ]);
    expect(await ledgerRecognition(env.DB, "ord_rec_early")).toEqual({ deferred: 0, recognised: 630 });
    // A reversal before its redemption waits for the recognition, then posts its exact negative.
    await deliver([reverse("rdm_early2", "ord_rec_early")]);
    expect((await parkedFor("ord_rec_early")).map((p) => p.reason)).toEqual([]); // rdm_early2's recognition is posted: reversed at once
    await deliver([reverse("rdm_late", "ord_rec_early")]);
    expect((await parkedFor("ord_rec_early")).map((p) => p.reason)).toEqual(["reversal_before_recognition"]);
    await deliver([redeem("rdm_late", "ord_rec_early")]);
    await deliver([]);
    expect(await parkedFor("ord_rec_early")).toEqual([]);
    expect(await ledgerRecognition(env.DB, "ord_rec_early")).toEqual({ deferred: 315, recognised: 315 });
    // Two consumers at once: A is computed from a state that B changes before A commits; A's guard fails inside
    // the D1 transaction, A is parked and recomputed by the next batch as the last unit (631 = 315 + 316, not 630).
    const odd = {
      ...orderOf("ord_rec_race", ch.id, 701),
      items: [{ product_id: "prd_led", quantity: 2, unit_price: 350, amount: 701 }],
    };
    await deliver([ev("order.paid", { order: odd, payment: { method: "balance", amount: 701, currency: "CNY" } })]);
    const stale = await ledgerStatements(env, [redeem("rdm_raceA", "ord_rec_race")]);
    await deliver([redeem("rdm_raceB", "ord_rec_race")]);
    await env.DB.batch(stale);
    expect((await parkedFor("ord_rec_race")).map((p) => p.reason)).toEqual(["recognition_retry"]);
    expect(await ledgerRecognition(env.DB, "ord_rec_race")).toEqual({ deferred: 631 - 315, recognised: 315 });
    await deliver([]);
    expect(await parkedFor("ord_rec_race")).toEqual([]);
    expect(await ledgerRecognition(env.DB, "ord_rec_race")).toEqual({ deferred: 0, recognised: 631 });
    // Root orders take no money: a redemption of a known root order posts nothing; an early one is dropped once the order is seen.
    await deliver([
      ev("order.fulfilled", { order: twoUnits("ord_rec_root", "fulfilled", ROOT_CHANNEL_ID) }),
      redeem("rdm_root1", "ord_rec_root"),
    ]);
    expect(await parkedFor("ord_rec_root")).toEqual([]);
    await deliver([redeem("rdm_root2", "ord_rec_root2")]);
    expect((await parkedFor("ord_rec_root2")).length).toBe(1);
    await deliver([ev("order.fulfilled", { order: twoUnits("ord_rec_root2", "fulfilled", ROOT_CHANNEL_ID) })]);
    await deliver([]);
    expect(await parkedFor("ord_rec_root2")).toEqual([]);
    // An order that never gets a sale: dropped after the grace period.
    await deliver([redeem("rdm_nosale", "ord_rec_nosale")]);
    await env.DB.prepare("UPDATE ledger_pending SET drop_after = 0 WHERE order_id = 'ord_rec_nosale'").run();
    await deliver([]);
    expect(await parkedFor("ord_rec_nosale")).toEqual([]);
    expect([
      ...(await entriesOf("ord_rec_root")),
      ...(await entriesOf("ord_rec_root2")),
      ...(await entriesOf("ord_rec_nosale")),
    ]).toEqual([]);
    await expectBalancedLedger();
  });
});
