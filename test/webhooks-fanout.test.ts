/**
 * Webhook fan-out from the events queue: exactly one delivery per (subscription, event), however
 * often or concurrently events arrive, and a failed fan-out retries the events message without
 * ever sending twice.
 */

import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { DomainEvent } from "../src/objects/outbox";
import { createChannel, orderAs } from "./channel-fixtures";
import { call } from "./helpers";
import {
  hookKey,
  ofType,
  payingChannel,
  received,
  subscribe,
  waitForRequests,
  webhooksDrained,
} from "./webhook-fixtures";

function toppedUp(channelId: string, label: string): DomainEvent {
  return {
    id: `evt_${label}${Date.now()}`,
    type: "balance.topped_up",
    created_at: new Date().toISOString(),
    source: `channel:${channelId}`,
    seq: 7,
    data: { channel_id: channelId, movement_id: "mov_x", amount: 5, currency: "CNY", balance: 5 },
  };
}

async function deliverEvents(events: DomainEvent[], environment: Env = env) {
  const batch = createMessageBatch(
    "voucher-events",
    events.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<DomainEvent>, environment, ctx);
  return getQueueResult(batch, ctx);
}

describe("webhook fan-out", () => {
  it("a fan-out that cannot enqueue retries the events message; the retry sends once", async () => {
    const channel = await createChannel("WH fanout failure", "partner");
    const key = hookKey("fanout-fail");
    const sub = await subscribe(key, ["balance.*"], { channel_id: channel.id });
    const e = toppedUp(channel.id, "fanfail");
    const broken = {
      ...env,
      WEBHOOKS: {
        send: async () => {
          throw new Error("queue down");
        },
        sendBatch: async () => {
          throw new Error("queue down");
        },
      },
    } as unknown as Env;
    const failed = await deliverEvents([e], broken);
    expect(failed.ackAll).toBe(false);
    expect(failed.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["m0"]);
    // The projection committed and the delivery is stored, but unclaimed: the retry enqueues it.
    expect(
      await env.DB.prepare("SELECT 1 FROM processed_events WHERE event_id = ?1").bind(e.id).first(),
    ).not.toBeNull();
    const row = await env.DB.prepare(
      "SELECT status, enqueued_at FROM webhook_deliveries WHERE event_id = ?1 AND subscription_id = ?2",
    )
      .bind(e.id, sub.id)
      .first();
    expect(row).toEqual({ status: "pending", enqueued_at: null });
    // Nothing was enqueued, so nothing may arrive: wait until every delivery that could be under way is done.
    await webhooksDrained();
    expect(await received(key)).toHaveLength(0);
    const retried = await deliverEvents([e]);
    expect(retried.ackAll || retried.explicitAcks.length === 1).toBe(true);
    await deliverEvents([e]); // and once more, as a redelivery
    await waitForRequests(key, (r) => r.length >= 1);
    await webhooksDrained(); // a second request, if any had been enqueued, has been made by now
    expect((await received(key)).map((r) => r.body.id)).toEqual([e.id]);
  });

  it("a redelivered event fans out once: one delivery per subscription, one request", async () => {
    const channel = await createChannel("WH redelivery", "partner");
    const [k1, k2] = [hookKey("redeliver-1"), hookKey("redeliver-2")];
    const s1 = await subscribe(k1, ["balance.topped_up"], { channel_id: channel.id });
    const s2 = await subscribe(k2, ["*"]);
    const e = toppedUp(channel.id, "redeliver");
    for (const events of [[e, e], [e], [e]]) {
      const result = await deliverEvents(events);
      expect(result.ackAll || result.explicitAcks.length === events.length).toBe(true);
    }
    const mine = (r: { body: any }[]) => r.filter((x) => x.body?.id === e.id);
    await waitForRequests(k1, (r) => mine(r).length >= 1);
    await waitForRequests(k2, (r) => mine(r).length >= 1);
    await webhooksDrained(); // any duplicate would have arrived by now
    expect(mine(await received(k1))).toHaveLength(1);
    expect(mine(await received(k2))).toHaveLength(1);
    const rows = await env.DB.prepare(
      "SELECT subscription_id FROM webhook_deliveries WHERE event_id = ?1 ORDER BY subscription_id",
    )
      .bind(e.id)
      .all<{ subscription_id: string }>();
    expect(rows.results.map((r) => r.subscription_id)).toEqual([s1.id, s2.id].sort());
    await call("DELETE", `/v1/webhooks/${s2.id}`);
  });

  it("50 orders at once: exactly 50 deliveries of each subscribed type per subscription, none twice", async () => {
    const N = 50;
    const t = await payingChannel("WH concurrent", N);
    const [kAll, kPaid] = [hookKey("conc-all"), hookKey("conc-paid")];
    const all = await subscribe(kAll, ["order.*"], { channel_id: t.channel.id });
    const paid = await subscribe(kPaid, ["order.paid"], { channel_id: t.channel.id });
    const results = await Promise.all(Array.from({ length: N }, () => orderAs(t.token, t.product.id, 1)));
    expect(results.map((r) => r.status)).toEqual(Array(N).fill(201));
    const ids = new Set(results.map((r) => r.json.id));
    await waitForRequests(
      kAll,
      (r) => ofType(r, "order.fulfilled").length >= N && ofType(r, "order.paid").length >= N,
      60_000,
    );
    await waitForRequests(kPaid, (r) => r.length >= N, 60_000);
    await webhooksDrained(); // every order's events are fanned out and every delivery made: duplicates would show
    for (const [key, types] of [
      [kAll, ["order.fulfilled", "order.paid"]],
      [kPaid, ["order.paid"]],
    ] as const) {
      const reqs = await received(key);
      expect(reqs.every((r) => r.signature_valid === true)).toBe(true);
      for (const type of types) {
        const got = ofType(reqs, type);
        expect(got, `${key} ${type}`).toHaveLength(N);
        expect(new Set(got.map((r) => r.body.data.order.id))).toEqual(ids);
      }
      expect(new Set(reqs.map((r) => r.headers["voucher-delivery-id"])).size).toBe(reqs.length);
      expect(reqs.length).toBe(types.length * N);
    }
    const counts = await env.DB.prepare(
      "SELECT subscription_id, event_type, COUNT(*) AS n, SUM(status = 'delivered') AS ok FROM webhook_deliveries WHERE subscription_id IN (?1, ?2) GROUP BY 1, 2 ORDER BY 1, 2",
    )
      .bind(all.id, paid.id)
      .all<{ subscription_id: string; event_type: string; n: number; ok: number }>();
    for (const row of counts.results) expect(row).toMatchObject({ n: N, ok: N });
  });

  it("the cron re-enqueues a delivery that was stored but never sent, and prunes the log after 30 days", async () => {
    const channel = await createChannel("WH sweep", "partner");
    const key = hookKey("sweep");
    const sub = await subscribe(key, ["balance.*"], { channel_id: channel.id });
    const e = toppedUp(channel.id, "sweep");
    const old = Date.now() - 2 * 3_600_000;
    const ancient = Date.now() - 40 * 86_400_000;
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO webhook_events (id, type, source, seq, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      ).bind(e.id, e.type, e.source, e.seq, JSON.stringify(e), old),
      // Claimed two hours ago, never attempted: the process died between the claim and the send.
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, status, attempts, enqueued_at, created_at, updated_at) VALUES ('dlv_sweep0stuck', ?1, ?2, ?3, 'pending', 0, ?4, ?4, ?4)",
      ).bind(sub.id, e.id, e.type, old),
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, status, attempts, created_at, updated_at) VALUES ('dlv_sweep0ancient', ?1, 'evt_ancient', ?2, 'delivered', 1, ?3, ?3)",
      ).bind(sub.id, e.type, ancient),
    ]);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const reqs = await waitForRequests(key, (r) => r.length >= 1);
    expect(reqs.map((r) => [r.body.id, r.headers["voucher-delivery-id"], r.signature_valid])).toEqual([
      [e.id, "dlv_sweep0stuck", true],
    ]);
    expect(await env.DB.prepare("SELECT 1 FROM webhook_deliveries WHERE id = 'dlv_sweep0ancient'").first()).toBeNull();
  });
});
