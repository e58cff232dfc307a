/**
 * Signed webhooks on the real local runtime, against a real Node receiver on 127.0.0.1 that verifies every
 * signature with the documented verifier: subscriptions (secret, URL policy, subtrees) and direct attempts
 * (ping, redirects, timeouts). Deliveries through the queues: webhooks-delivery.test.ts; fan-out:
 * webhooks-fanout.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createChannel } from "./channel-fixtures";
import { call } from "./helpers";
import { control, hookKey, hookUrl, ofType, received, subscribe } from "./webhook-fixtures";

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

describe("webhooks: direct attempts (ping)", () => {
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
});
