/** Settlement rules (who may set them, validation) and payouts (create, concurrent create, paid once). */

import { createExecutionContext, createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ledgerChannelBalances, ledgerTotals } from "../src/db/ledger";
import worker from "../src/index";
import type { DomainEvent } from "../src/objects/outbox";
import { createChannel, keyFor } from "./channel-fixtures";
import { call } from "./helpers";

let seq = 0;
async function paid(orderId: string, channelId: string, amount: number) {
  const order = {
    id: orderId,
    channel_id: channelId,
    status: "fulfilled",
    customer_ref: null,
    external_ref: null,
    currency: "CNY",
    total_amount: amount,
    failure_reason: null,
    created_at: "2026-03-01T10:00:00.000Z",
    updated_at: "2026-03-01T10:00:00.000Z",
    items: [{ product_id: "prd_set", quantity: 1, unit_price: amount, amount }],
  };
  const body: DomainEvent = {
    id: `evt_set${Date.now().toString(36)}${++seq}`,
    type: "order.paid",
    created_at: new Date().toISOString(),
    source: "channel:test",
    seq,
    data: { order, payment: { method: "gateway", gateway: "sandbox", amount, currency: "CNY" } },
  };
  const batch = createMessageBatch("voucher-events", [{ id: "m0", timestamp: new Date(), attempts: 1, body }]);
  await worker.queue(batch as MessageBatch<DomainEvent>, env, createExecutionContext());
}

describe("settlement rules", () => {
  it("the merchant sets a channel's rule; channels read their subtree's rules but set none", async () => {
    const nat = await createChannel("N", "agent");
    const natKey = await keyFor(nat.id);
    const store = await createChannel("S", "store", nat.id, natKey);
    const storeKey = await keyFor(store.id);
    const rule = { bps: 800, fixed_per_unit: 5, cap: 1000, overrides: [{ product_id: "prd_x1", bps: 100, cap: 50 }] };
    // ledger:write is the merchant's: an agent cannot grant its subtree commission out of the merchant's remainder.
    expect((await call("PUT", `/v1/channels/${store.id}/settlement`, rule, { token: natKey })).json.error.code).toBe(
      "forbidden",
    );
    const put = await call("PUT", `/v1/channels/${store.id}/settlement`, rule);
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ object: "settlement_rule", channel_id: store.id, ...rule });
    expect(
      (await call("GET", `/v1/channels/${store.id}/settlement`, undefined, { token: storeKey })).json,
    ).toMatchObject(rule);
    expect((await call("PUT", `/v1/channels/${store.id}/settlement`, { bps: 9000 }, { token: storeKey })).status).toBe(
      403,
    );
    expect((await call("PUT", `/v1/channels/${nat.id}/settlement`, { bps: 9000 }, { token: storeKey })).status).toBe(
      403,
    );
    expect((await call("GET", `/v1/channels/${store.id}/settlement`, undefined, { token: natKey })).json).toMatchObject(
      rule,
    );
    expect((await call("GET", `/v1/channels/${nat.id}/settlement`, undefined, { token: storeKey })).status).toBe(404);
    // Root replaces the whole rule.
    expect((await call("PUT", `/v1/channels/${store.id}/settlement`, { bps: 300 })).json).toMatchObject({
      bps: 300,
      fixed_per_unit: null,
      cap: null,
      overrides: [],
    });
    const readOnly = await keyFor(nat.id, ["ledger:read"]);
    expect((await call("PUT", `/v1/channels/${store.id}/settlement`, { bps: 1 }, { token: readOnly })).status).toBe(
      403,
    );
    const noRule = await createChannel("Z", "partner");
    expect((await call("GET", `/v1/channels/${noRule.id}/settlement`)).json).toMatchObject({
      bps: null,
      overrides: [],
      updated_at: null,
    });
  });

  it("is in the OpenAPI document", async () => {
    const spec = (await call("GET", "/v1/openapi.json", undefined, { token: null })).json;
    for (const path of [
      "/v1/channels/{id}/settlement",
      "/v1/channels/{id}/statements",
      "/v1/payouts",
      "/v1/payouts/{id}",
      "/v1/payouts/{id}/paid",
    ])
      expect(spec.paths[path], path).toBeDefined();
  });

  it("rejects bad rules with 400", async () => {
    const ch = await createChannel("V", "partner");
    for (const body of [
      { bps: 10_001 },
      { bps: -1 },
      { bps: 1.5 },
      { cap: -5 },
      { overrides: [{ product_id: "prd_a" }] },
      {
        overrides: [
          { product_id: "prd_a", bps: 1 },
          { product_id: "prd_a", bps: 2 },
        ],
      },
      { extra: 1 },
      { overrides: [{ product_id: "nope", bps: 1 }] },
    ]) {
      const res = await call("PUT", `/v1/channels/${ch.id}/settlement`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("payouts", { timeout: 60_000 }, () => {
  it("pays each cent of commission once: concurrent creation, paid once, 409 the second time", async () => {
    const agent = await createChannel("Payee", "agent");
    await call("PUT", `/v1/channels/${agent.id}/settlement`, { bps: 1000 });
    expect((await call("POST", "/v1/payouts", { channel_id: agent.id })).status).toBe(422);
    await paid("ord_pay1", agent.id, 10_000);
    await paid("ord_pay2", agent.id, 5_555);
    const created = await Promise.all(
      Array.from({ length: 10 }, () => call("POST", "/v1/payouts", { channel_id: agent.id, currency: "CNY" })),
    );
    const ok = created.filter((r) => r.status === 201);
    expect(ok).toHaveLength(1);
    expect(created.filter((r) => r.status === 422).every((r) => r.json.error.code === "nothing_to_pay")).toBe(true);
    const payout = ok[0].json;
    expect(payout).toMatchObject({
      object: "payout",
      channel_id: agent.id,
      currency: "CNY",
      amount: 1000 + 555,
      status: "open",
    });
    // New commission while a payout is open goes into the next payout only.
    await paid("ord_pay3", agent.id, 1_000);
    const second = await call("POST", "/v1/payouts", { channel_id: agent.id });
    expect(second.json).toMatchObject({ amount: 100, status: "open" });

    const agentKey = await keyFor(agent.id);
    expect(
      (await call("POST", `/v1/payouts/${payout.id}/paid`, { reference: "bank-1" }, { token: agentKey })).status,
    ).toBe(403);
    const marks = await Promise.all([
      call("POST", `/v1/payouts/${payout.id}/paid`, { reference: "bank-1" }),
      call("POST", `/v1/payouts/${payout.id}/paid`, { reference: "bank-1" }),
    ]);
    expect(marks.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await call("POST", `/v1/payouts/${payout.id}/paid`)).status).toBe(409);
    expect((await call("GET", `/v1/payouts/${payout.id}`, undefined, { token: agentKey })).json).toMatchObject({
      status: "paid",
      reference: "bank-1",
    });
    expect((await ledgerChannelBalances(env.DB, agent.id))[0].commission).toBe(100);
    const posts = await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_transactions WHERE source_key = ?1")
      .bind(`payout:${payout.id}`)
      .first<{ n: number }>();
    expect(posts!.n).toBe(1);
    for (const t of await ledgerTotals(env.DB)) expect(t).toMatchObject({ total: 0, unbalanced_transactions: 0 });

    const list = await call("GET", `/v1/payouts?channel_id=${agent.id}&status=open`, undefined, { token: agentKey });
    expect(list.json.data.map((p: any) => p.id)).toEqual([second.json.id]);
    const stranger = await keyFor((await createChannel("Stranger", "partner")).id);
    expect((await call("GET", `/v1/payouts/${payout.id}`, undefined, { token: stranger })).status).toBe(404);
    expect((await call("GET", `/v1/payouts?channel_id=${agent.id}`, undefined, { token: stranger })).json.data).toEqual(
      [],
    );
    expect((await call("POST", "/v1/payouts", { channel_id: agent.id }, { token: stranger })).status).toBe(403);
  });
});
