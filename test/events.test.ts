/** The EVENTS consumer: projections applied once per event id; failures retried (then dead-lettered by the queue). */

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { DomainEvent } from "../src/objects/outbox";

const order = (id: string, status: string, updated: string) => ({
  id,
  channel_id: "chn_root",
  status,
  customer_ref: null,
  external_ref: "evt-test",
  currency: "CNY",
  total_amount: 500,
  failure_reason: null,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: updated,
  items: [{ product_id: "prd_e", quantity: 1, unit_price: 500, amount: 500 }],
});

function event(id: string, type: string, data: Record<string, unknown>, seq = 1): DomainEvent {
  const source = type.startsWith("code.") ? "sku:prd_e:0" : "channel:chn_root";
  return { id, type, created_at: new Date().toISOString(), source, seq, data };
}

async function deliver(events: DomainEvent[]) {
  const batch = createMessageBatch(
    "voucher-events",
    events.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<DomainEvent>, env, ctx);
  return getQueueResult(batch, ctx);
}

describe("events consumer", () => {
  it("projects an order once, however often the event is delivered", async () => {
    const e = event("evt_once", "order.fulfilled", {
      order: order("ord_evt1", "fulfilled", "2026-01-01T00:00:01.000Z"),
    });
    const result = await deliver([e, e, e]);
    expect(result.ackAll || result.explicitAcks.length === 3).toBe(true);
    const rows = await env.DB.prepare("SELECT * FROM orders WHERE id = 'ord_evt1'").all();
    expect(rows.results).toHaveLength(1);
    const processed = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM processed_events WHERE event_id = 'evt_once'",
    ).first<{ n: number }>();
    expect(processed!.n).toBe(1);
  });

  it("never lets an older event overwrite a newer state", async () => {
    await deliver([
      event("evt_new", "order.failed", { order: order("ord_evt2", "failed", "2026-01-01T00:00:05.000Z") }),
    ]);
    await deliver([
      event("evt_old", "order.fulfilled", { order: order("ord_evt2", "fulfilled", "2026-01-01T00:00:01.000Z") }),
    ]);
    expect(
      (await env.DB.prepare("SELECT status FROM orders WHERE id = 'ord_evt2'").first<{ status: string }>())!.status,
    ).toBe("failed");
    await env.DB.prepare(
      "INSERT INTO code_index (blind_index, product_id, shard, batch_id, last4, status, version, created_at) VALUES ('bi_1', 'prd_e', 0, 'bat_e', 'ABCD', 'available', 0, 0)",
    ).run();
    await deliver([
      event(
        "evt_r",
        "code.redeemed",
        {
          code_index: "bi_1",
          redemption_id: "rdm_e",
          channel_id: "chn_root",
          last4: "ABCD",
          redeemed_at: "2026-01-01T00:00:09.000Z",
        },
        9,
      ),
    ]);
    await deliver([
      event(
        "evt_i",
        "code.issued",
        {
          code_indexes: ["bi_1"],
          order_id: "ord_e",
          channel_id: "chn_root",
          issued_at: "2026-01-01T00:00:02.000Z",
          expires_at: null,
        },
        3,
      ),
    ]);
    expect(await env.DB.prepare("SELECT status, version FROM code_index WHERE blind_index = 'bi_1'").first()).toEqual({
      status: "redeemed",
      version: 9,
    });
  });

  it("retries a message whose projection fails, acking the rest", async () => {
    const good = event("evt_good", "order.fulfilled", {
      order: order("ord_evt3", "fulfilled", "2026-01-01T00:00:01.000Z"),
    });
    const bad = event("evt_bad", "order.fulfilled", { order: { id: "ord_bad" } });
    const result = await deliver([good, bad]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["m1"]);
    expect(await env.DB.prepare("SELECT 1 FROM processed_events WHERE event_id = 'evt_bad'").first()).toBeNull();
  });
});
