/**
 * Signed webhooks end to end on the real local runtime: the events queue fans out to the WEBHOOKS queue, the
 * delivery consumer POSTs to a real Node receiver on 127.0.0.1 that verifies every signature with the
 * documented verifier; retries with backoff, dead letters, replays, and fan-out by subtree.
 */
import { describe, expect, it } from "vitest";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";
import {
  control,
  deliveries,
  hookKey,
  ofType,
  payingChannel,
  received,
  subscribe,
  waitForRequests,
  webhooksDrained,
} from "./webhook-fixtures";

describe("webhooks: deliveries", () => {
  it("an order: order.paid and order.fulfilled arrive signed, with rising sequence per resource and no codes", async () => {
    const t = await payingChannel("WH order", 3);
    const key = hookKey("order");
    const sub = await subscribe(key, ["order.paid", "order.fulfilled"], { channel_id: t.channel.id });
    const res = await orderAs(t.token, t.product.id, 2);
    expect(res.status).toBe(201);
    const reqs = await waitForRequests(key, (r) => r.length >= 2);
    expect(reqs.map((r) => r.body.type).sort()).toEqual(["order.fulfilled", "order.paid"]);
    expect(reqs.every((r) => r.signature_valid === true && r.body.data.order.id === res.json.id)).toBe(true);
    expect(reqs[0].body.data.payment ?? reqs[1].body.data.payment).toMatchObject({
      method: "balance",
      amount: res.json.total_amount,
    });
    expect(new Set(reqs.map((r) => r.body.resource))).toEqual(new Set([`channel:${t.channel.id}`]));
    const seqs = reqs.map((r) => r.body.sequence).sort((a, b) => a - b);
    expect(seqs[0]).toBeLessThan(seqs[1]);
    for (const item of res.json.items)
      for (const c of item.codes) for (const r of reqs) expect(r.raw).not.toContain(c.code);
    // The receiver has both requests; each delivery is marked delivered once its answer is back.
    expect(
      await eventually(
        () => deliveries(sub.id, "&status=delivered"),
        (d) => d.length >= 2,
      ),
    ).toHaveLength(2);
  });
  it("settlement.posted: a store hears its own commission only; its agent hears its subtree's, never the merchant's remainder", async () => {
    const product = await productWithCodes(2, { price: 10_000 });
    const nat = await createChannel("WH nat", "agent");
    const natKey = await keyFor(nat.id);
    const store = await createChannel("WH store", "store", nat.id, natKey);
    const storeKey = await keyFor(store.id);
    for (const res of [
      await setEntry(nat.id, product.id, {}),
      await setEntry(store.id, product.id, {}, natKey),
      await allocate(product.id, nat.id, 2),
      await allocate(product.id, store.id, 2, natKey),
      await topUp(store.id, 50_000, natKey),
    ])
      expect(res.status, res.text).toBeLessThan(300);
    for (const [id, bps] of [
      [nat.id, 200],
      [store.id, 800],
    ] as const)
      expect((await call("PUT", `/v1/channels/${id}/settlement`, { bps })).status).toBe(200);
    const [storeHook, natHook] = [hookKey("stl-store"), hookKey("stl-nat")];
    await subscribe(storeHook, ["settlement.posted"], { channel_id: store.id });
    await subscribe(natHook, ["settlement.posted"], { channel_id: nat.id });
    expect((await orderAs(storeKey, product.id, 1)).status).toBe(201);
    const [atStore] = await waitForRequests(storeHook, (r) => r.length >= 1);
    const [atNat] = await waitForRequests(natHook, (r) => r.length >= 1);
    expect(atStore.body.data.shares).toEqual([{ channel_id: store.id, amount: 800 }]);
    expect(atStore.body.data).not.toHaveProperty("merchant_amount");
    expect(atNat.body.data.shares.map((x: { channel_id: string }) => x.channel_id).sort()).toEqual(
      [nat.id, store.id].sort(),
    );
    expect(atNat.body.data).not.toHaveProperty("merchant_amount");
    expect(atStore.signature_valid && atNat.signature_valid).toBe(true);
  });
  it("retries with backoff while the receiver fails, recording every attempt, then replays on request", async () => {
    const channel = await createChannel("WH retry", "partner");
    const key = hookKey("retry");
    const sub = await subscribe(key, ["balance.topped_up"], { channel_id: channel.id });
    await control(key, { fail_next: 3, fail_status: 503 });
    expect((await topUp(channel.id, 500)).status).toBe(200);
    const reqs = await waitForRequests(key, (r) => r.some((x) => x.answered === 200));
    expect(reqs.map((r) => r.answered)).toEqual([503, 503, 503, 200]);
    expect(new Set(reqs.map((r) => r.headers["voucher-delivery-id"])).size).toBe(1);
    expect(reqs.every((r) => r.signature_valid)).toBe(true);
    // The 200 has been received; the delivery row records it once the answer is back at the consumer.
    const [d] = await eventually(
      () => deliveries(sub.id),
      (l) => l[0]?.status === "delivered",
    );
    expect(d).toMatchObject({
      status: "delivered",
      attempts: 4,
      last_status_code: 200,
      last_error: null,
      event_type: "balance.topped_up",
    });
    const detail = (await call("GET", `/v1/webhooks/${sub.id}/deliveries/${d.id}`)).json;
    expect(detail.attempt_log.map((a: any) => [a.attempt, a.trigger, a.status_code, a.error])).toEqual([
      [1, "queue", 503, "http_503"],
      [2, "queue", 503, "http_503"],
      [3, "queue", 503, "http_503"],
      [4, "queue", 200, null],
    ]);
    const replay = await call("POST", `/v1/webhooks/${sub.id}/deliveries/${d.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.json).toMatchObject({ status: "delivered", attempts: 5 });
    expect(replay.json.attempt_log[4]).toMatchObject({ attempt: 5, trigger: "replay", status_code: 200 });
    const after = await received(key);
    expect(after).toHaveLength(5);
    expect(after[4].body.id).toBe(reqs[0].body.id);
    expect(after[4].signature_valid).toBe(true);
  });
  it("dead-letters a delivery after every attempt failed, and a replay still delivers it", async () => {
    const channel = await createChannel("WH dead", "partner");
    const key = hookKey("dead");
    const sub = await subscribe(key, ["balance.*"], { channel_id: channel.id });
    await control(key, { fail_next: 1000, fail_status: 500 });
    await topUp(channel.id, 100);
    const [d] = await eventually(
      () => deliveries(sub.id),
      (l) => l[0]?.status === "dead",
      50_000,
    );
    expect(d).toMatchObject({ status: "dead", attempts: 13, last_status_code: 500, next_attempt_at: null });
    expect(await received(key)).toHaveLength(13);
    await control(key, { fail_next: 0 });
    const replay = await call("POST", `/v1/webhooks/${sub.id}/deliveries/${d.id}/replay`);
    expect(replay.json).toMatchObject({ status: "delivered", attempts: 14, last_status_code: 200 });
    expect(await deliveries(sub.id, "&status=dead")).toHaveLength(0);
  });
  it("fans out by subtree: a parent hears its child, a sibling does not, a disabled subscription gets nothing", async () => {
    const parent = await createChannel("WH parent", "agent");
    const child = await createChannel("WH child", "store", parent.id);
    const sibling = await createChannel("WH sibling", "agent");
    const [kp, kc, ks, kd] = [hookKey("tree-p"), hookKey("tree-c"), hookKey("tree-s"), hookKey("tree-d")];
    await subscribe(kp, ["*"], { channel_id: parent.id });
    await subscribe(kc, ["balance.topped_up"], { channel_id: child.id });
    await subscribe(ks, ["*"], { channel_id: sibling.id });
    const disabled = await subscribe(kd, ["balance.*"], { channel_id: child.id });
    await call("PATCH", `/v1/webhooks/${disabled.id}`, { status: "disabled" });
    await topUp(parent.id, 1000);
    await topUp(child.id, 100, undefined);
    await waitForRequests(kp, (r) => ofType(r, "balance.topped_up").length >= 2);
    await waitForRequests(kc, (r) => r.length >= 1);
    await webhooksDrained(); // whatever else the top-ups fanned out has arrived by now
    expect(
      ofType(await received(kp), "balance.topped_up")
        .map((r) => r.body.data.channel_id)
        .sort(),
    ).toEqual([child.id, parent.id].sort());
    expect((await received(kc)).map((r) => r.body.data.channel_id)).toEqual([child.id]);
    expect(await received(ks)).toHaveLength(0);
    expect(await received(kd)).toHaveLength(0);
    expect(await deliveries(disabled.id)).toHaveLength(0);
  });
});
