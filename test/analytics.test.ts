/**
 * The cockpit's numbers (GET /v1/analytics): kept by the events consumer in the roll-ups, exact under
 * concurrent orders and redemptions, counted once when events are delivered again, scoped to the caller's
 * subtree, and tied out to the ledger (revenue for a period = the ledger's sales for that period).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { rollupAdd } from "../src/db/analytics";
import { allocate, createChannel, keyFor, setEntry, topUp } from "./channel-fixtures";
import { call, generate, idemKey } from "./helpers";
import { deliver } from "./ledger-fixtures";
import { eventsDrained } from "./pipeline-fixtures";

const HOUR = 3_600_000;
const range = () => {
  const now = Date.now();
  return `from=${new Date(now - 2 * HOUR).toISOString()}&to=${new Date(now + 2 * HOUR).toISOString()}`;
};

let productId: string;
let agent: { id: string };
let storeA: { id: string };
let storeB: { id: string };
let tokenA: string;
let tokenB: string;
let agentToken: string;

beforeAll(async () => {
  const p = await call("POST", "/v1/products", { name: "Cockpit card", price: 500, currency: "CNY" });
  productId = p.json.id;
  await generate(productId, 300);
  agent = await createChannel("Cockpit agent", "agent");
  storeA = await createChannel("Cockpit store A", "store", agent.id);
  storeB = await createChannel("Cockpit store B", "store", agent.id);
  agentToken = await keyFor(agent.id);
  for (const ch of [agent, storeA, storeB]) expect((await setEntry(ch.id, productId, { price: 400 })).status).toBe(200);
  expect((await allocate(productId, agent.id, 240)).status).toBe(200);
  for (const ch of [agent, storeA, storeB]) {
    if (ch !== agent) expect((await allocate(productId, ch.id, 80, agentToken)).status).toBe(200);
    expect((await topUp(ch.id, 100_000)).status).toBeLessThan(300);
  }
  tokenA = await keyFor(storeA.id);
  tokenB = await keyFor(storeB.id);
});

/** The ledger's sales of the subtree of `channelId` (debit legs of `sale` transactions) in [from, to). */
async function ledgerSales(channelId: string, from: number, to: number) {
  const row = await env.DB.prepare(
    `SELECT COALESCE(SUM(e.amount), 0) AS total FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id
     JOIN channels ch ON ch.id = t.channel_id
     WHERE t.type = 'sale' AND e.amount > 0 AND t.created_at >= ?2 AND t.created_at < ?3
       AND substr(ch.path, 1, length((SELECT path FROM channels WHERE id = ?1))) = (SELECT path FROM channels WHERE id = ?1)`,
  )
    .bind(channelId, from, to)
    .first<{ total: number }>();
  return row!.total;
}

async function analytics(token: string | undefined, extra = "") {
  const res = await call("GET", `/v1/analytics?${range()}&interval=hour${extra}`, undefined, { token });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

describe("cockpit roll-ups", () => {
  it("counts concurrent orders and redemptions exactly and ties revenue out to the ledger", async () => {
    // 30 orders from store A and 20 from store B at once, 1–2 codes each.
    const orders = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) =>
        call(
          "POST",
          "/v1/orders",
          { items: [{ product_id: productId, quantity: 1 + (i % 2) }] },
          { token: tokenA, headers: { "idempotency-key": idemKey("a") } },
        ),
      ),
      ...Array.from({ length: 20 }, () =>
        call(
          "POST",
          "/v1/orders",
          { items: [{ product_id: productId, quantity: 1 }] },
          { token: tokenB, headers: { "idempotency-key": idemKey("b") } },
        ),
      ),
    ]);
    for (const o of orders) expect(o.status, o.text).toBe(201);
    const codesA = orders.slice(0, 30).flatMap((o) => o.json.items[0].codes.map((c: { code: string }) => c.code));
    // 25 of store A's codes redeemed at once, each twice: exactly 25 redemptions.
    const tries = await Promise.all(
      [...codesA.slice(0, 25), ...codesA.slice(0, 25)].map((code) => call("POST", "/v1/redemptions", { code })),
    );
    expect(tries.filter((t) => t.status === 201)).toHaveLength(25);
    await eventsDrained();

    const a = await analytics(tokenA);
    expect(a.totals).toMatchObject({ orders: 30, units: 45, revenue: 45 * 400, redemptions: 25, refunds: 0 });
    expect(a.totals.redemption_rate).toBeCloseTo(25 / 45, 4);
    const all = await analytics(agentToken);
    expect(all.totals).toMatchObject({ orders: 50, units: 65, revenue: 65 * 400, redemptions: 25 });
    expect(all.series.reduce((s: number, p: { orders: number }) => s + p.orders, 0)).toBe(50);
    // The agent sees its own sales and each child's, nothing else.
    const byChild = Object.fromEntries(
      all.channels.map((c: { channel_id: string; revenue: number }) => [c.channel_id, c]),
    );
    expect(Object.keys(byChild).sort()).toEqual([agent.id, storeA.id, storeB.id].sort());
    expect(byChild[storeA.id]).toMatchObject({ orders: 30, units: 45, revenue: 18_000, redemptions: 25 });
    expect(byChild[storeB.id]).toMatchObject({ orders: 20, units: 20, revenue: 8_000 });
    expect(all.products).toEqual([
      expect.objectContaining({ product_id: productId, name: "Cockpit card", units: 65, revenue: 26_000 }),
    ]);
    // Tie-out: the same period's revenue is the ledger's sales, for the subtree and for each store.
    const from = Date.parse(all.from);
    const to = Date.parse(all.to);
    expect(await ledgerSales(agent.id, from, to)).toBe(all.totals.revenue);
    expect(await ledgerSales(storeB.id, from, to)).toBe(byChild[storeB.id].revenue);
  });

  it("counts an event delivered again only once", async () => {
    const before = (await analytics(tokenB)).totals;
    const o = await call(
      "POST",
      "/v1/orders",
      { items: [{ product_id: productId, quantity: 3 }] },
      { token: tokenB, headers: { "idempotency-key": idemKey("again") } },
    );
    expect(o.status).toBe(201);
    await eventsDrained();
    const row = await env.DB.prepare(
      "SELECT event_id FROM processed_events WHERE type = 'order.fulfilled' ORDER BY rowid DESC LIMIT 1",
    ).first<{ event_id: string }>();
    const order = o.json;
    const redelivered = [
      {
        id: row!.event_id,
        type: "order.fulfilled",
        created_at: order.created_at,
        source: `channel:${storeB.id}`,
        seq: 1,
        data: { order },
      },
    ];
    const result = await deliver(redelivered);
    expect(result.ackAll || result.explicitAcks.length === 1).toBe(true);
    // The statement's own guard, without the consumer's pre-filter: an applied event adds nothing.
    await env.DB.batch(
      rollupAdd(
        env.DB,
        { event: row!.event_id },
        { hour: Date.now(), channelId: storeB.id, productId: "", currency: "", orders: 1 },
        0,
      ),
    );
    const after = (await analytics(tokenB)).totals;
    expect(after.orders - before.orders).toBe(1);
    expect(after.units - before.units).toBe(3);
    expect(after.revenue - before.revenue).toBe(1_200);
  });

  it("shows a channel only its subtree and answers 404 for a sibling", async () => {
    const b = await analytics(tokenB);
    expect(b.channels.map((c: { channel_id: string }) => c.channel_id)).toEqual([storeB.id]);
    expect(JSON.stringify(b)).not.toContain(storeA.id);
    expect(JSON.stringify(b)).not.toContain("Cockpit store A");
    const sibling = await call("GET", `/v1/analytics?${range()}&channel_id=${storeA.id}`, undefined, { token: tokenB });
    expect(sibling.status).toBe(404);
    const drill = await analytics(agentToken, `&channel_id=${storeA.id}`);
    expect(drill.channel_id).toBe(storeA.id);
    expect(drill.totals.orders).toBe(30);
  });

  it("answers bad periods with 400 and the error shape", async () => {
    const now = new Date().toISOString();
    for (const q of [
      `from=${now}&to=${now}`,
      `from=${now}`,
      "from=yesterday&to=today",
      `from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
      `from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&interval=hour`,
      `${range()}&tz_offset_minutes=100000`,
    ]) {
      const res = await call("GET", `/v1/analytics?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.json.error.code).toBeTypeOf("string");
    }
  });
});

/** Per earning channel of the subtree of `channelId`: commission credited by sales less refund reversals in [from, to). */
async function ledgerCommission(channelId: string, from: number, to: number) {
  const row = await env.DB.prepare(
    `SELECT -COALESCE(SUM(e.amount), 0) AS total FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
     JOIN ledger_transactions t ON t.id = e.txn_id JOIN channels ch ON ch.id = a.owner
     WHERE a.kind = 'commission' AND t.type IN ('sale', 'refund') AND t.created_at >= ?2 AND t.created_at < ?3
       AND substr(ch.path, 1, length((SELECT path FROM channels WHERE id = ?1))) = (SELECT path FROM channels WHERE id = ?1)`,
  )
    .bind(channelId, from, to)
    .first<{ total: number }>();
  return row!.total;
}

/** The merchant's legs (deferred and recognised revenue) of sales and refunds in [from, to). */
async function ledgerMerchantShare(from: number, to: number) {
  const row = await env.DB.prepare(
    `SELECT -COALESCE(SUM(e.amount), 0) AS total FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id
     WHERE e.account_id IN ('merchant:deferred_revenue', 'merchant:revenue') AND t.type IN ('sale', 'refund')
       AND t.created_at >= ?1 AND t.created_at < ?2`,
  )
    .bind(from, to)
    .first<{ total: number }>();
  return row!.total;
}

describe("commission and the merchant's share", () => {
  it("counts each commission at the channel that earns it, exactly under concurrent orders and a refund", async () => {
    const nat = await createChannel("Commission agent", "agent");
    const natKey = await keyFor(nat.id);
    const shop = await createChannel("Commission store", "store", nat.id);
    for (const ch of [nat, shop]) expect((await setEntry(ch.id, productId, { price: 400 })).status).toBe(200);
    expect((await allocate(productId, nat.id, 40)).status).toBe(200);
    expect((await allocate(productId, shop.id, 30, natKey)).status).toBe(200);
    expect((await topUp(shop.id, 100_000)).status).toBeLessThan(300);
    expect((await call("PUT", `/v1/channels/${nat.id}/settlement`, { bps: 1000 })).status).toBe(200);
    expect((await call("PUT", `/v1/channels/${shop.id}/settlement`, { bps: 500, fixed_per_unit: 3 })).status).toBe(200);
    const shopKey = await keyFor(shop.id);
    const orders = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(
          "POST",
          "/v1/orders",
          { items: [{ product_id: productId, quantity: 1 + (i % 2) }] },
          { token: shopKey, headers: { "idempotency-key": idemKey("cm") } },
        ),
      ),
    );
    for (const o of orders) expect(o.status, o.text).toBe(201);
    await eventsDrained();
    const refund = await call(
      "POST",
      `/v1/orders/${orders[1].json.id}/refund`,
      { reason: "customer asked" },
      { headers: { "idempotency-key": idemKey("cmr") } },
    );
    expect(refund.status, refund.text).toBe(200);
    await eventsDrained();

    // 30 units at 400: the store earns 5 % + 3 per unit, the agent 10 %; one 2-unit order refunded in full.
    const units = 30 - 2;
    const view = await analytics(natKey);
    const from = Date.parse(view.from);
    const to = Date.parse(view.to);
    expect(view.totals.commission).toBe(units * (20 + 3) + units * 40);
    expect(view.totals.commission).toBe(await ledgerCommission(nat.id, from, to));
    expect(view.totals.merchant_share).toBe(0);
    const store = await analytics(shopKey);
    expect(store.totals.commission).toBe(units * 23);
    expect(store.totals.commission).toBe(await ledgerCommission(shop.id, from, to));
    // The merchant's view: all commission paid out, and its own share; together they are the net revenue.
    const root = await analytics(undefined);
    expect(root.totals.commission).toBe(await ledgerCommission("chn_root", from, to));
    expect(root.totals.merchant_share).toBe(await ledgerMerchantShare(from, to));
    expect(root.totals.commission + root.totals.merchant_share).toBe(root.totals.net_revenue);
  });
});

describe("periods over many days", () => {
  it("reads whole business days from the daily roll-ups and the ends hour by hour, with the same totals", async () => {
    const shop = await createChannel("History shop", "own_store");
    // 40 paid orders, one every 7 hours, starting 12 days ago at 03:00 UTC: they cross business midnights
    // (16:00 UTC for ANALYTICS_TZ_OFFSET_MINUTES = 480) and UTC midnights alike.
    const start = Date.UTC(2026, 10, 1, 3);
    const events = Array.from({ length: 40 }, (_, i) => {
      const at = new Date(start + i * 7 * HOUR).toISOString();
      const order = {
        id: `ord_hist${i}`,
        channel_id: shop.id,
        status: "fulfilled",
        customer_ref: null,
        external_ref: null,
        failure_reason: null,
        created_at: at,
        updated_at: at,
        currency: "CNY",
        total_amount: 100 * (i + 1),
        items: [{ product_id: productId, quantity: 1, amount: 100 * (i + 1) }],
      };
      return [
        {
          id: `evt_histf${i}`,
          type: "order.fulfilled",
          created_at: at,
          source: `channel:${shop.id}`,
          seq: 2 * i,
          data: { order },
        },
        {
          id: `evt_histp${i}`,
          type: "order.paid",
          created_at: at,
          source: `channel:${shop.id}`,
          seq: 2 * i + 1,
          data: { order, payment: { method: "balance", amount: 100 * (i + 1), currency: "CNY" } },
        },
      ];
    }).flat();
    await deliver(events);
    const shopKey = await keyFor(shop.id);
    const expected = (from: number, to: number) => {
      const inside = Array.from({ length: 40 }, (_, i) => i).filter(
        (i) => start + i * 7 * HOUR >= from && start + i * 7 * HOUR < to,
      );
      return { orders: inside.length, revenue: inside.reduce((s, i) => s + 100 * (i + 1), 0) };
    };
    for (const [from, to] of [
      [start, start + 280 * HOUR], // everything
      [start + 5 * HOUR, start + 100 * HOUR], // partial days at both ends
      [start + 13 * HOUR, start + 14 * HOUR], // one hour
      [start + 37 * HOUR, start + 61 * HOUR], // exactly one business day (16:00 → 16:00 UTC)
    ]) {
      const q = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
      for (const view of ["&interval=day", "&interval=day&tz_offset_minutes=0", "&interval=hour"]) {
        if (view === "&interval=hour" && to - from > 31 * 24 * HOUR) continue;
        const res = await call("GET", `/v1/analytics?${q}${view}`, undefined, { token: shopKey });
        expect(res.status, res.text).toBe(200);
        expect(res.json.totals, `${q}${view}`).toMatchObject(expected(from, to));
        const seriesOrders = res.json.series.reduce((s: number, p: { orders: number }) => s + p.orders, 0);
        expect(seriesOrders, `${q}${view} series`).toBe(expected(from, to).orders);
        expect(res.json.products[0]?.revenue ?? 0).toBe(expected(from, to).revenue);
      }
    }
  });
});

describe("several currencies", () => {
  it("shows the period's largest currency unless one is asked for, the same in totals, trend and breakdowns", async () => {
    const shop = await createChannel("Two-currency shop", "own_store");
    const at = new Date(Date.now() - HOUR).toISOString();
    const paidIn = (i: number, currency: string, amount: number) => {
      const order = {
        id: `ord_cur${i}`,
        channel_id: shop.id,
        status: "fulfilled",
        created_at: at,
        updated_at: at,
        currency,
        total_amount: amount,
        items: [{ product_id: productId, quantity: 1, amount }],
      };
      return {
        id: `evt_cur${i}`,
        type: "order.paid",
        created_at: at,
        source: `channel:${shop.id}`,
        seq: i,
        data: { order, payment: { method: "balance", amount, currency } },
      };
    };
    await deliver([paidIn(1, "CNY", 700), paidIn(2, "USD", 500), paidIn(3, "USD", 600)]);
    const key = await keyFor(shop.id);
    for (const [asked, currency, revenue] of [
      ["", "USD", 1_100],
      ["&currency=CNY", "CNY", 700],
    ] as const) {
      const res = await call("GET", `/v1/analytics?${range()}&interval=hour${asked}`, undefined, { token: key });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ currency, totals: { revenue } });
      expect(res.json.series.reduce((n: number, p: { revenue: number }) => n + p.revenue, 0)).toBe(revenue);
      expect(res.json.channels[0].revenue).toBe(revenue);
      expect(res.json.products[0].revenue).toBe(revenue);
      expect(res.json.revenue_by_currency.map((m: { currency: string }) => m.currency)).toEqual(["CNY", "USD"]);
    }
  });
});

describe("the redemption log", () => {
  it("lists redemptions and failed attempts with their reason, scoped to the subtree", async () => {
    const bad = await call("POST", "/v1/redemptions", { code: "ZZZZ-ZZZZ-ZZZZ-ZZZZ" }, { token: tokenA });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    await eventsDrained();
    const ok = await call("GET", "/v1/redemptions?limit=100");
    expect(ok.status).toBe(200);
    expect(ok.json.data.filter((r: { outcome: string }) => r.outcome === "redeemed")).toHaveLength(25);
    expect(ok.json.data[0]).toMatchObject({ object: "redemption", product_id: productId });
    expect(JSON.stringify(ok.json)).not.toMatch(/[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/);
    const failed = await call("GET", "/v1/redemptions?outcome=failed", undefined, { token: tokenA });
    expect(failed.json.data[0]).toMatchObject({ outcome: "failed", action: "redeem", channel_id: storeA.id });
    expect(failed.json.data[0].reason).toBeTypeOf("string");
    const asB = await call("GET", "/v1/redemptions?outcome=failed", undefined, { token: tokenB });
    expect(asB.json.data).toHaveLength(0);
    const page1 = await call("GET", "/v1/redemptions?limit=10");
    const page2 = await call("GET", `/v1/redemptions?limit=10&cursor=${page1.json.next_cursor}`);
    expect(page2.json.data[0].id < page1.json.data[9].id).toBe(true);
  });
});
