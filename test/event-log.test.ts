/** GET /v1/events: the subtree's events, newest first, by type or prefix, never a code; a sibling sees nothing. */
import { describe, expect, it } from "vitest";
import { logEntry } from "../src/domain/event-log";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, generate } from "./helpers";
import { eventsDrained } from "./pipeline-fixtures";

describe("the event log", () => {
  it("lists a channel's orders and redemptions, without codes, to that channel and its ancestors only", async () => {
    const p = await call("POST", "/v1/products", { name: "Logged card", price: 700, currency: "CNY" });
    await generate(p.json.id, 10);
    const a = await createChannel("Log store A", "store");
    const b = await createChannel("Log store B", "store");
    for (const ch of [a, b]) {
      await setEntry(ch.id, p.json.id, {});
      await allocate(p.json.id, ch.id, 5);
      await topUp(ch.id, 10_000);
    }
    const keyA = await keyFor(a.id);
    const keyB = await keyFor(b.id);
    const placed = await orderAs(keyA, p.json.id, 2);
    const code = placed.json.items[0].codes[0].code;
    expect((await call("POST", "/v1/redemptions", { code }, { token: keyA })).status).toBe(201);
    await eventsDrained();

    const mine = await call("GET", "/v1/events?limit=50", undefined, { token: keyA });
    expect(mine.status).toBe(200);
    const types = mine.json.data.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["order.fulfilled", "order.paid", "code.redeemed", "balance.topped_up"]),
    );
    expect(mine.text).not.toContain(code);
    const fulfilled = mine.json.data.find((e: { type: string }) => e.type === "order.fulfilled");
    expect(fulfilled).toMatchObject({
      channel_id: a.id,
      subject_id: placed.json.id,
      summary: { status: "fulfilled", total_amount: placed.json.total_amount },
    });
    // Newest first, by cursor.
    const ids = mine.json.data.map((e: { id: string }) => e.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    const onlyOrders = await call("GET", "/v1/events?type=order.", undefined, { token: keyA });
    expect(onlyOrders.json.data.every((e: { type: string }) => e.type.startsWith("order."))).toBe(true);
    const paged = await call("GET", "/v1/events?limit=1", undefined, { token: keyA });
    const next = await call("GET", `/v1/events?limit=1&cursor=${paged.json.next_cursor}`, undefined, { token: keyA });
    expect(next.json.data[0].id < paged.json.data[0].id).toBe(true);
    // The sibling sees only its own top-up; the merchant sees both.
    const sibling = await call("GET", "/v1/events?limit=50", undefined, { token: keyB });
    expect(sibling.json.data.map((e: { channel_id: string }) => e.channel_id)).toEqual(
      sibling.json.data.map(() => b.id),
    );
    expect(sibling.text).not.toContain(placed.json.id);
    const root = await call("GET", "/v1/events?limit=100");
    expect(root.json.data.some((e: { channel_id: string }) => e.channel_id === a.id)).toBe(true);
    expect((await call("GET", "/v1/events?type=Order!")).status).toBe(400);
  });

  it("keeps safe fields only, whatever the event carries", () => {
    const entry = logEntry({
      type: "order.fulfilled",
      source: "channel:chn_x",
      data: {
        order: {
          id: "ord_1",
          channel_id: "chn_x",
          status: "fulfilled",
          total_amount: 100,
          currency: "CNY",
          customer_ref: "alice@example.com",
          items: [{ product_id: "prd_1", codes: [{ code: "SECRET-CODE-1234", pin: "9999" }] }],
        },
      },
    });
    expect(entry).toEqual({
      channelId: "chn_x",
      subjectId: "ord_1",
      summary: { status: "fulfilled", total_amount: 100, currency: "CNY" },
    });
    expect(logEntry({ type: "webhook.delivered", source: "x", data: {} })).toBeNull();
  });
});
