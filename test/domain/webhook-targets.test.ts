/** The retry schedule and event routing of webhooks (pure). */
import { describe, expect, it } from "vitest";
import { backoffScale, MAX_ATTEMPTS, RETRY_DELAYS_S, retryDelaySeconds } from "../../src/domain/webhook-backoff";
import {
  deliveryBody,
  eventChannel,
  invalidFilters,
  matchesFilters,
  settlementFor,
  targetsFor,
} from "../../src/domain/webhook-targets";

describe("webhook retry schedule", () => {
  it("13 attempts over about 24 hours, rising, jittered ±20 %, scaled for tests", () => {
    expect(MAX_ATTEMPTS).toBe(13);
    const total = RETRY_DELAYS_S.reduce((a, b) => a + b, 0);
    expect(total / 3600).toBeGreaterThan(22);
    expect(total / 3600).toBeLessThan(26);
    for (let i = 1; i < RETRY_DELAYS_S.length; i++) expect(RETRY_DELAYS_S[i]).toBeGreaterThan(RETRY_DELAYS_S[i - 1]);
    expect(retryDelaySeconds(1, 1, 0.5)).toBe(10);
    expect(retryDelaySeconds(1, 1, 0)).toBe(8);
    expect(retryDelaySeconds(1, 1, 0.999999)).toBe(12);
    expect(retryDelaySeconds(12, 1, 0.999999)).toBe(30_240);
    expect(retryDelaySeconds(13)).toBeNull();
    expect(retryDelaySeconds(0)).toBeNull();
    for (let n = 1; n <= 12; n++) expect(retryDelaySeconds(n, 0.00004, Math.random())).toBeLessThanOrEqual(2);
    expect(backoffScale("0.00004")).toBe(0.00004);
    expect(backoffScale(undefined)).toBe(1);
    expect(backoffScale("-1")).toBe(1);
    expect(backoffScale("abc")).toBe(1);
  });
});

describe("webhook routing", () => {
  it("matches exact types, family wildcards and *, and refuses unknown filters", () => {
    expect(matchesFilters(["order.*"], "order.paid")).toBe(true);
    expect(matchesFilters(["order.*"], "stock.low")).toBe(false);
    expect(matchesFilters(["*"], "settlement.posted")).toBe(true);
    expect(matchesFilters(["stock.low"], "stock.refilled")).toBe(false);
    expect(matchesFilters(["*"], "stock.held")).toBe(false); // not in the catalogue: internal
    expect(matchesFilters(["order.*"], "orders.paid")).toBe(false);
    expect(invalidFilters(["order.*", "*", "stock.low", "webhook.ping"])).toEqual([]);
    expect(invalidFilters(["order", "order.*.x", "nope.*", "order.nope", "*.*", ""])).toHaveLength(6);
  });

  it("routes an event to subscriptions of its channel and of every ancestor", () => {
    expect(eventChannel({ type: "order.paid", data: { order: { channel_id: "chn_a" } } })).toBe("chn_a");
    expect(eventChannel({ type: "stock.low", data: { channel_id: "chn_b" } })).toBe("chn_b");
    expect(eventChannel({ type: "code.voided", data: { last4: "ABCD" } })).toBe("chn_root");
    expect(eventChannel({ type: "order.paid", data: { order: { channel_id: "'; DROP" } } })).toBe("chn_root");
    const subs = [
      { id: "whk_root", path: "/chn_root/", events: ["*"] },
      { id: "whk_a", path: "/chn_root/chn_a/", events: ["order.*"] },
      { id: "whk_a1", path: "/chn_root/chn_a/chn_a1/", events: ["order.paid"] },
      { id: "whk_b", path: "/chn_root/chn_b/", events: ["*"] },
      { id: "whk_aa", path: "/chn_root/chn_aa/", events: ["*"] },
    ];
    const e = { type: "order.paid", data: { order: { channel_id: "chn_a1" } } };
    expect(targetsFor(e, "/chn_root/chn_a/chn_a1/", subs)).toEqual(["whk_root", "whk_a", "whk_a1"]);
    expect(targetsFor({ type: "stock.low", data: { channel_id: "chn_a" } }, "/chn_root/chn_a/", subs)).toEqual([
      "whk_root",
    ]);
    expect(targetsFor({ type: "stock.held", data: {} }, "/chn_root/", subs)).toEqual([]);
    expect(targetsFor(e, null, subs)).toEqual([]);
  });

  it("sends id, type, created_at, resource, sequence and data, without internal index fields", () => {
    const body = JSON.parse(
      deliveryBody({
        id: "evt_1",
        type: "code.issued",
        created_at: "2026-01-01T00:00:00.000Z",
        source: "sku:prd_1:0",
        seq: 9,
        data: { code_indexes: ["x"], order_id: "ord_1", nested: [{ code_index: "y", last4: "ABCD" }] },
      }),
    );
    expect(body).toEqual({
      id: "evt_1",
      type: "code.issued",
      created_at: "2026-01-01T00:00:00.000Z",
      resource: "sku:prd_1:0",
      sequence: 9,
      data: { order_id: "ord_1", nested: [{ last4: "ABCD" }] },
    });
  });
});

describe("settlement visibility", () => {
  const event = {
    id: "evt_s",
    type: "settlement.posted",
    created_at: "2026-11-25T00:00:00Z",
    source: "ledger",
    seq: 1,
    data: {
      order_id: "ord_1",
      channel_id: "chn_store",
      total: 1000,
      merchant_amount: 870,
      shares: [
        { channel_id: "chn_store", amount: 80 },
        { channel_id: "chn_prov", amount: 30 },
        { channel_id: "chn_nat", amount: 20 },
      ],
    },
  };
  it("a channel sees the shares of its own subtree, never an ancestor's, nor the merchant's remainder", () => {
    const store = settlementFor(event, new Set(["chn_store"]), false).data as any;
    expect(store.shares).toEqual([{ channel_id: "chn_store", amount: 80 }]);
    expect(store).not.toHaveProperty("merchant_amount");
    expect((settlementFor(event, new Set(["chn_store", "chn_prov"]), false).data as any).shares).toHaveLength(2);
    expect(settlementFor(event, new Set(), true)).toBe(event);
    const other = { ...event, type: "order.paid" };
    expect(settlementFor(other, new Set(), false)).toBe(other);
  });
});
