/**
 * The ledger on the real local queue: a concurrent mixed workload leaves a balanced ledger that matches the
 * ChannelAccounts and the split rules; redelivery, a poisoned message and racing consumers never post twice.
 * Refunds out of order and statements: ledger-refunds-statements.test.ts; revenue recognition:
 * ledger-recognition.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ledgerChannelBalances } from "../src/db/ledger";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";
import { deliver, entriesOf, ev, expectBalancedLedger, orderOf, paidEvent, txnCount } from "./ledger-fixtures";

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
});
