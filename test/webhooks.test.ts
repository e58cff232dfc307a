/**
 * Signed webhooks end to end on the real local runtime: the events queue fans out to the
 * WEBHOOKS queue, the delivery consumer POSTs to a real Node receiver on 127.0.0.1 that
 * verifies every signature with the documented verifier.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";
import {
  control,
  deliveries,
  hookKey,
  hookUrl,
  payingChannel,
  received,
  subscribe,
  waitForRequests,
  webhooksDrained,
} from "./webhook-fixtures";

const ofType = <R extends { body: any }>(reqs: R[], type: string) => reqs.filter((r) => r.body?.type === type);
/** The pings a hook received (its subscription may also hear real events of other tests). */
const pingsAt = async (key: string) => ofType(await received(key), "webhook.ping");

describe("webhooks: subscriptions", () => {
  it("returns the secret once, seals it at rest, lists and reads without it", async () => {
    const key = hookKey("crud");
    const sub = await subscribe(key, ["order.*", "stock.low"]);
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(sub.id).toMatch(/^whk_/);
    const read = await call("GET", `/v1/webhooks/${sub.id}`);
    expect(read.status).toBe(200);
    expect(read.json.secret).toBeUndefined();
    expect(read.json).toMatchObject({
      url: hookUrl(key),
      events: ["order.*", "stock.low"],
      status: "active",
      channel_id: "chn_root",
    });
    const row = await env.DB.prepare("SELECT * FROM webhook_subscriptions WHERE id = ?1")
      .bind(sub.id)
      .first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(sub.secret);
    expect(JSON.stringify(row)).not.toContain(sub.secret.slice(6));
    const list = await call("GET", "/v1/webhooks?limit=100");
    expect(list.json.data.some((w: any) => w.id === sub.id && w.secret === undefined)).toBe(true);
    const patched = await call("PATCH", `/v1/webhooks/${sub.id}`, {
      events: ["stock.*"],
      status: "disabled",
      description: "d",
    });
    expect(patched.json).toMatchObject({ events: ["stock.*"], status: "disabled", description: "d" });
    const rotated = await call("POST", `/v1/webhooks/${sub.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(sub.secret);
    expect((await call("DELETE", `/v1/webhooks/${sub.id}`)).status).toBe(200);
    expect((await call("GET", `/v1/webhooks/${sub.id}`)).status).toBe(404);
    expect((await call("PATCH", `/v1/webhooks/${sub.id}`, { status: "active" })).status).toBe(404);
  });

  it("documents every webhook route in the OpenAPI spec", async () => {
    const spec = await call("GET", "/v1/openapi.json", undefined, { token: null });
    expect(spec.status).toBe(200);
    for (const path of [
      "/v1/webhooks",
      "/v1/webhooks/{id}",
      "/v1/webhooks/{id}/rotate-secret",
      "/v1/webhooks/{id}/ping",
      "/v1/webhooks/{id}/deliveries",
      "/v1/webhooks/{id}/deliveries/{delivery_id}",
      "/v1/webhooks/{id}/deliveries/{delivery_id}/replay",
    ]) {
      expect(spec.json.paths[path], path).toBeDefined();
    }
  });

  it("refuses unsafe URLs and unknown event filters", async () => {
    for (const url of [
      "http://10.0.0.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://[::ffff:10.0.0.1]/x",
      "http://example.com/x",
      "https://u:p@example.com/x",
      "https://metadata.google.internal/x",
      "https://0xa9fea9fe/x",
      "ftp://example.com/x",
    ]) {
      const res = await call("POST", "/v1/webhooks", { url, events: ["*"] });
      expect(res.status, url).toBe(422);
      expect(res.json.error.code, url).toBe("invalid_webhook_url");
    }
    for (const events of [["order.nope"], ["nope.*"], ["order*"], []]) {
      const res = await call("POST", "/v1/webhooks", { url: "https://example.com/x", events });
      expect(res.status, JSON.stringify(events)).toBe(400);
    }
    const ok = await call("POST", "/v1/webhooks", { url: "https://example.com/hook", events: ["*"] });
    expect(ok.status).toBe(201);
    expect((await call("PATCH", `/v1/webhooks/${ok.json.id}`, { url: "https://192.168.1.1/x" })).json.error.code).toBe(
      "invalid_webhook_url",
    );
    await call("DELETE", `/v1/webhooks/${ok.json.id}`);
  });

  it("keeps subtrees apart: another subtree's subscription is 404 like an unknown one", async () => {
    const a = await createChannel("WH A", "partner");
    const b = await createChannel("WH B", "partner");
    const keyA = (await call("POST", `/v1/channels/${a.id}/keys`, {})).json.secret;
    const keyB = (await call("POST", `/v1/channels/${b.id}/keys`, {})).json.secret;
    const subA = await subscribe(hookKey("iso-a"), ["balance.*"], { token: keyA });
    expect(subA.channel_id).toBe(a.id);
    const unknown = await call("GET", "/v1/webhooks/whk_0000000000unknown000000000", undefined, { token: keyB });
    for (const [method, path, body] of [
      ["GET", `/v1/webhooks/${subA.id}`],
      ["PATCH", `/v1/webhooks/${subA.id}`, { status: "disabled" }],
      ["DELETE", `/v1/webhooks/${subA.id}`],
      ["POST", `/v1/webhooks/${subA.id}/rotate-secret`],
      ["POST", `/v1/webhooks/${subA.id}/ping`],
      ["GET", `/v1/webhooks/${subA.id}/deliveries`],
    ] as [string, string, unknown?][]) {
      const res = await call(method, path, body, { token: keyB });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe(unknown.json.error.code);
    }
    expect(
      (await call("GET", "/v1/webhooks?limit=100", undefined, { token: keyB })).json.data.map((w: any) => w.id),
    ).not.toContain(subA.id);
    expect(
      (await call("POST", "/v1/webhooks", { url: hookUrl("x"), events: ["*"], channel_id: b.id }, { token: keyA }))
        .status,
    ).toBe(404);
    expect((await call("GET", `/v1/webhooks/${subA.id}`)).status).toBe(200); // the root sees every subtree
    expect((await call("GET", `/v1/webhooks/${subA.id}`, undefined, { token: keyA })).status).toBe(200);
  });
});

describe("webhooks: deliveries", () => {
  it("ping reaches the local receiver, signed, with the documented headers", async () => {
    const key = hookKey("ping");
    const sub = await subscribe(key, ["stock.low"]);
    const res = await call("POST", `/v1/webhooks/${sub.id}/ping`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      status: "delivered",
      attempts: 1,
      last_status_code: 200,
      event_type: "webhook.ping",
    });
    expect(res.json.attempt_log).toMatchObject([{ attempt: 1, trigger: "ping", status_code: 200, error: null }]);
    const [got] = await pingsAt(key);
    expect(got.signature_valid).toBe(true);
    expect(got.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "VoucherEdge-Webhooks/1",
      "voucher-delivery-id": res.json.id,
      "voucher-event-id": res.json.event_id,
    });
    expect(got.headers["voucher-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(got.body).toMatchObject({
      id: res.json.event_id,
      type: "webhook.ping",
      resource: `webhook:${sub.id}`,
      data: { webhook_id: sub.id },
    });
    expect(Object.keys(got.body).sort()).toEqual(["created_at", "data", "id", "resource", "sequence", "type"]);
    // After a rotation the receiver's old secret no longer verifies; the new one does.
    const rotated = await call("POST", `/v1/webhooks/${sub.id}/rotate-secret`);
    await call("POST", `/v1/webhooks/${sub.id}/ping`);
    expect((await pingsAt(key))[1].signature_valid).toBe(false);
    await control(key, { secret: rotated.json.secret });
    await call("POST", `/v1/webhooks/${sub.id}/ping`);
    expect((await pingsAt(key))[2].signature_valid).toBe(true);
    await call("DELETE", `/v1/webhooks/${sub.id}`);
  });

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

  it("never follows a redirect and re-checks the URL at delivery time", async () => {
    const key = hookKey("redir");
    const sub = await subscribe(key, ["stock.low"]);
    await control(key, { redirect: true });
    const res = await call("POST", `/v1/webhooks/${sub.id}/ping`);
    expect(res.json).toMatchObject({ status: "failed", last_status_code: 302, last_error: "redirect_not_followed" });
    expect(await received(`${key}-redirected`)).toHaveLength(0);
    // A URL that became unsafe (written behind the API's back) is refused before any request.
    await env.DB.prepare("UPDATE webhook_subscriptions SET url = 'http://10.1.2.3/hook' WHERE id = ?1")
      .bind(sub.id)
      .run();
    const refused = await call("POST", `/v1/webhooks/${sub.id}/ping`);
    expect(refused.json.status).toBe("failed");
    expect(refused.json.last_error).toMatch(/^url_refused: blocked host: private/);
    expect(refused.json.last_status_code).toBeNull();
    await call("DELETE", `/v1/webhooks/${sub.id}`);
  });

  it("a receiver slower than the timeout is a failed attempt", async () => {
    const key = hookKey("slow");
    const sub = await subscribe(key, ["stock.low"]);
    await control(key, { hold: true }); // the receiver keeps its answer back; WEBHOOK_TIMEOUT_MS is 2000 in tests
    const res = await call("POST", `/v1/webhooks/${sub.id}/ping`);
    // The attempt ended while the receiver still held its answer: the timeout cut it short, not the answer.
    expect((await pingsAt(key)).map((r) => r.replied)).toEqual([false]);
    expect(res.json).toMatchObject({ status: "failed", last_status_code: null, last_error: "timeout" });
    expect(res.json.attempt_log[0].duration_ms).toBeGreaterThanOrEqual(1900);
    await control(key, { hold: false, release: true });
    expect((await call("POST", `/v1/webhooks/${sub.id}/deliveries/${res.json.id}/replay`)).json).toMatchObject({
      status: "delivered",
      attempts: 2,
    });
    await call("DELETE", `/v1/webhooks/${sub.id}`);
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
