/**
 * Reconciliation on the real local runtime: a clean workload reconciles; each kind of tampering
 * (projection, ledger, a source whose events are still queued) is reported as it should be; the
 * nightly cron stores its run and announces a mismatch.
 */

import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { checkout, notify, publishableKey, sandboxNotice } from "./gateway-counterparts/fixtures";
import { call, eventually, productWithCodes } from "./helpers";

const reconciliation = () => call("GET", "/v1/reconciliation");
const settled = () => eventually(reconciliation, (r) => r.status === 200 && r.json.status === "ok", 30_000);

async function workload() {
  const product = await productWithCodes(30);
  const store = await createChannel("Recon store", "store");
  const token = await keyFor(store.id);
  await setEntry(store.id, product.id, { price: 900 });
  await allocate(product.id, store.id, 20);
  await topUp(store.id, 10_000);
  const orders = await Promise.all(Array.from({ length: 6 }, () => orderAs(token, product.id, 1)));
  expect(orders.map((o) => o.status)).toEqual(Array(6).fill(201));
  const redeemed = await call("POST", "/v1/redemptions", { code: orders[0].json.items[0].codes[0].code });
  expect(redeemed.status, redeemed.text).toBe(201);
  return { product, store };
}

/** Each test makes its own workload (reconciliation reads the whole database, so none may leave a difference behind). */
async function settledWorkload() {
  const fixture = await workload();
  const run = await settled();
  expect(run.json.status, JSON.stringify(run.json.differences)).toBe("ok");
  return fixture;
}

/** Flips one redeemed code of the pool back to issued in the projection; returns the undo. */
async function tamperCodeIndex(productId: string) {
  const row = await env.DB.prepare(
    "SELECT blind_index FROM code_index WHERE product_id = ?1 AND status = 'redeemed' LIMIT 1",
  )
    .bind(productId)
    .first<{ blind_index: string }>();
  await env.DB.prepare("UPDATE code_index SET status = 'issued' WHERE blind_index = ?1").bind(row!.blind_index).run();
  return async () => {
    await env.DB.prepare("UPDATE code_index SET status = 'redeemed' WHERE blind_index = ?1")
      .bind(row!.blind_index)
      .run();
  };
}

describe("reconciliation", { timeout: 120_000 }, () => {
  it("finds nothing to report once the queue has drained after a workload", async () => {
    const fixture = await workload();
    const run = await settled();
    expect(run.json).toMatchObject({ object: "reconciliation", trigger: "api", differences: [], lagging: [] });
    expect(run.json.checked.pools).toBeGreaterThanOrEqual(1);
    expect(run.json.checked.channels).toBeGreaterThanOrEqual(1);
    const balance = await call("GET", `/v1/channels/${fixture.store.id}/balance`);
    expect(balance.json.balance).toBe(10_000 - 6 * 900);
  });

  it("reports a projection that disagrees with its pool, with both sides", async () => {
    const fixture = await settledWorkload();
    const undo = await tamperCodeIndex(fixture.product.id);
    const run = await reconciliation();
    expect(run.json.status).toBe("mismatch");
    const diff = run.json.differences.find((d: { kind: string }) => d.kind === "code_counts");
    expect(diff).toMatchObject({
      subject: `sku:${fixture.product.id}:0`,
      expected: { issued: 5, redeemed: 1 },
      actual: { issued: 6, redeemed: 0 },
    });
    await undo();
    expect((await reconciliation()).json.status).toBe("ok");
  });

  it("calls a difference on a source whose events are still queued lagging, not a mismatch", async () => {
    const fixture = await settledWorkload();
    const row = await env.DB.prepare(
      "SELECT blind_index FROM code_index WHERE product_id = ?1 AND status = 'issued' LIMIT 1",
    )
      .bind(fixture.product.id)
      .first<{ blind_index: string }>();
    const source = `sku:${fixture.product.id}:0`;
    await env.DB.batch([
      env.DB.prepare("UPDATE code_index SET status = 'available' WHERE blind_index = ?1").bind(row!.blind_index),
      env.DB.prepare("UPDATE source_progress SET applied = applied - 1 WHERE source = ?1").bind(source),
    ]);
    const run = await reconciliation();
    expect(run.json).toMatchObject({ status: "lagging", differences: [], lagging: [source] });
    await env.DB.batch([
      env.DB.prepare("UPDATE code_index SET status = 'issued' WHERE blind_index = ?1").bind(row!.blind_index),
      env.DB.prepare("UPDATE source_progress SET applied = applied + 1 WHERE source = ?1").bind(source),
    ]);
    expect((await reconciliation()).json.status).toBe("ok");
  });

  it("checks each gateway payment of the day against the ledger and the order, telling lag from a mismatch", async () => {
    const product = await productWithCodes(2, { price: 1_200 });
    const pk = await publishableKey();
    const co = (await checkout(pk, [{ product_id: product.id, quantity: 1 }])).json;
    const n = await sandboxNotice({
      order_id: co.order_id,
      payment_id: co.payment.payment_id,
      amount: co.amount,
      currency: co.currency,
    });
    expect((await notify("sandbox", n.body, n.headers)).headers.get("x-notice-outcome")).toBe("accepted");
    const run = await settled();
    expect(run.json.checked.payments).toBeGreaterThanOrEqual(1);
    // The gateway says 1,300 was paid: with the root's events still queued it is lag, once caught up a mismatch.
    await env.DB.batch([
      env.DB.prepare("UPDATE payment_notices SET amount = 1300 WHERE order_id = ?1").bind(co.order_id),
      env.DB.prepare("UPDATE source_progress SET applied = applied - 1 WHERE source = 'channel:chn_root'"),
    ]);
    expect((await reconciliation()).json).toMatchObject({
      status: "lagging",
      differences: [],
      lagging: [`order:${co.order_id}`],
    });
    await env.DB.prepare("UPDATE source_progress SET applied = applied + 1 WHERE source = 'channel:chn_root'").run();
    const mismatch = await reconciliation();
    expect(mismatch.json.differences).toEqual([
      expect.objectContaining({
        kind: "payment_vs_ledger",
        subject: `order:${co.order_id}`,
        expected: 1300,
        actual: 1200,
      }),
    ]);
    await env.DB.prepare("UPDATE payment_notices SET amount = 1200 WHERE order_id = ?1").bind(co.order_id).run();
    expect((await reconciliation()).json.status).toBe("ok");
    // A refund made in the gateway's console: noted, and reported until the order is refunded here too.
    const r = await sandboxNotice(
      { order_id: co.order_id, payment_id: co.payment.payment_id, amount: co.amount, currency: co.currency },
      { type: "payment.refunded" },
    );
    expect((await notify("sandbox", r.body, r.headers)).headers.get("x-notice-outcome")).toBe("refund_noted");
    expect((await reconciliation()).json.differences).toEqual([
      expect.objectContaining({ kind: "gateway_refund_unapplied", subject: `order:${co.order_id}`, expected: 1200 }),
    ]);
    expect(
      (
        await call(
          "POST",
          `/v1/orders/${co.order_id}/refund`,
          { reason: "refunded in the gateway console" },
          { headers: { "idempotency-key": `rf-${co.order_id}` } },
        )
      ).status,
    ).toBe(200);
    await settled();
  });

  it("reports a ledger that no longer matches a channel's balance, and an unbalanced ledger", async () => {
    const fixture = await settledWorkload();
    const now = Date.now();
    // A balanced but unexplained transaction credits the store's balance account; then a lone entry.
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO ledger_transactions (id, source_key, type, currency, created_at, posted_at) VALUES ('txn_tamper1', 'tamper:1', 'topup', 'CNY', ?1, ?1)",
      ).bind(now),
      env.DB.prepare(
        "INSERT INTO ledger_entries (txn_id, line, account_id, channel_id, amount, currency, created_at) VALUES ('txn_tamper1', 0, 'platform:bank', NULL, 250, 'CNY', ?1)",
      ).bind(now),
      env.DB.prepare(
        "INSERT INTO ledger_entries (txn_id, line, account_id, channel_id, amount, currency, created_at) VALUES ('txn_tamper1', 1, ?2, ?3, -250, 'CNY', ?1)",
      ).bind(now, `${fixture.store.id}:balance`, fixture.store.id),
      env.DB.prepare(
        "INSERT INTO ledger_transactions (id, source_key, type, currency, created_at, posted_at) VALUES ('txn_tamper2', 'tamper:2', 'topup', 'CNY', ?1, ?1)",
      ).bind(now),
      env.DB.prepare(
        "INSERT INTO ledger_entries (txn_id, line, account_id, channel_id, amount, currency, created_at) VALUES ('txn_tamper2', 0, 'platform:bank', NULL, 7, 'CNY', ?1)",
      ).bind(now),
    ]);
    const run = await reconciliation();
    expect(run.json.status).toBe("mismatch");
    expect(run.json.differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: "channel_balance",
          subject: `channel:${fixture.store.id}`,
          expected: 4_600,
          actual: 4_850,
        }),
        expect.objectContaining({ kind: "ledger_unbalanced", subject: "ledger:CNY", actual: 7 }),
      ]),
    );
    // The ledger is append-only: undo the tampering the way a correction is made, by appending (a reversing
    // transaction, and the missing line of the lone entry), so no later test inherits the difference.
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO ledger_transactions (id, source_key, type, currency, created_at, posted_at) VALUES ('txn_tamper1r', 'tamper:1r', 'topup', 'CNY', ?1, ?1)",
      ).bind(now),
      env.DB.prepare(
        "INSERT INTO ledger_entries (txn_id, line, account_id, channel_id, amount, currency, created_at) VALUES ('txn_tamper1r', 0, 'platform:bank', NULL, -250, 'CNY', ?1)",
      ).bind(now),
      env.DB.prepare(
        "INSERT INTO ledger_entries (txn_id, line, account_id, channel_id, amount, currency, created_at) VALUES ('txn_tamper1r', 1, ?2, ?3, 250, 'CNY', ?1)",
      ).bind(now, `${fixture.store.id}:balance`, fixture.store.id),
      env.DB.prepare(
        "INSERT INTO ledger_entries (txn_id, line, account_id, channel_id, amount, currency, created_at) VALUES ('txn_tamper2', 1, 'platform:bank', NULL, -7, 'CNY', ?1)",
      ).bind(now),
    ]);
    expect((await reconciliation()).json.status).toBe("ok");
  });

  it("runs nightly from the cron: stores the run and emits reconciliation.mismatch", async () => {
    const fixture = await settledWorkload();
    const undo = await tamperCodeIndex(fixture.product.id);
    const scheduledTime = Date.parse("2026-11-25T00:15:00Z");
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "15 0 * * *", scheduledTime }), env, ctx);
    await waitOnExecutionContext(ctx);
    const runs = await call("GET", "/v1/reconciliation/runs");
    expect(runs.status, runs.text).toBe(200);
    expect(runs.json.data[0]).toMatchObject({
      object: "reconciliation",
      trigger: "cron",
      date: "2026-11-24",
      status: "mismatch",
    });
    await eventually(
      () =>
        env.DB.prepare("SELECT COUNT(*) AS n FROM processed_events WHERE type = 'reconciliation.mismatch'").first<{
          n: number;
        }>(),
      (r) => (r?.n ?? 0) >= 1,
    );
    await undo();
  });

  it("is the merchant's alone and refuses a bad date", async () => {
    expect((await call("GET", "/v1/reconciliation?date=2026-02-30")).status).toBe(400);
    const store = await createChannel("Recon auditor", "store");
    const token = await keyFor(store.id);
    expect((await call("GET", "/v1/reconciliation", undefined, { token })).status).toBe(403);
  });
});
