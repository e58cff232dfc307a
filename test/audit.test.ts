/**
 * The audit log: every authenticated mutation and every code reveal leaves one row with actor, action
 * (route pattern), resource, status, IP, user agent and request id; never a code, PIN or key secret.
 * A channel reads only its subtree's entries; nothing in the API changes the log.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createChannel } from "./channel-fixtures";
import { ADMIN, type CallOptions, call, createProduct, generate, idemKey, order } from "./helpers";

interface Row {
  id: string;
  at: number;
  actor_key_id: string;
  actor_channel_id: string;
  action: string;
  resource_id: string | null;
  status: number;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

let ridSeq = 0;
const rid = (label: string) => `audit-${label}-${Date.now()}-${++ridSeq}`;
const rowsFor = async (requestId: string) =>
  (await env.DB.prepare("SELECT * FROM audit_log WHERE request_id = ?1").bind(requestId).all<Row>()).results;
const allRows = async () => (await env.DB.prepare("SELECT * FROM audit_log ORDER BY id").all<Row>()).results;

/** A call with its own request id; returns the response and the audit rows it left. */
async function audited(method: string, path: string, body?: unknown, opts: CallOptions = {}) {
  const requestId = rid(method.toLowerCase());
  const res = await call(method, path, body, {
    ...opts,
    headers: { ...(opts.headers ?? {}), "x-request-id": requestId },
  });
  return { res, rows: await rowsFor(requestId), requestId };
}

/** Every plaintext secret the API handed out in this file: codes, PINs, key secrets. */
const secrets: string[] = [];

async function newKey(channelId: string, body: Record<string, unknown> = {}, token?: string) {
  const res = await call("POST", `/v1/channels/${channelId}/keys`, body, { token });
  if (res.status !== 201) throw new Error(`key: ${res.status} ${res.text}`);
  secrets.push(res.json.secret);
  return res.json as { id: string; secret: string; scopes: string[] };
}

const t = {} as {
  card: { id: string };
  orderId: string;
  A: { id: string };
  A1: { id: string };
  B: { id: string };
  keyA: { id: string; secret: string };
  keyA1: { id: string; secret: string };
  keyB: { id: string; secret: string };
  start: string;
};

beforeAll(async () => {
  t.start = new Date(Date.now() - 1000).toISOString();
  t.card = await createProduct({ kind: "card", name: "Audit card" });
  await generate(t.card.id, 20);
  t.A = await createChannel("Audit A", "agent");
  t.A1 = await createChannel("Audit A1", "store", t.A.id);
  t.B = await createChannel("Audit B", "agent");
  t.keyA = await newKey(t.A.id, { name: "A" });
  t.keyA1 = await newKey(t.A1.id, { name: "A1" });
  t.keyB = await newKey(t.B.id, { name: "B" });
});

describe("mutations and reveals leave one row each", () => {
  it("product create: actor, action, resource, status, IP, truncated user agent, request id", async () => {
    const ua = `AuditBot/1.0 ${"x".repeat(1000)}`;
    const before = Date.now();
    const { res, rows, requestId } = await audited(
      "POST",
      "/v1/products",
      { name: "Audited", kind: "code", price: 100, currency: "CNY" },
      { headers: { "cf-connecting-ip": "203.0.113.7", "user-agent": ua } },
    );
    expect(res.status).toBe(201);
    expect(rows).toHaveLength(1);
    const [r] = rows;
    expect(r).toMatchObject({
      actor_key_id: "admin_token",
      actor_channel_id: "chn_root",
      action: "POST /v1/products",
      resource_id: res.json.id,
      status: 201,
      ip: "203.0.113.7",
      request_id: requestId,
    });
    expect(r.id).toMatch(/^aud_[a-z0-9]{26}$/);
    expect(r.at).toBeGreaterThanOrEqual(before); // written while the call ran
    expect(r.at).toBeLessThanOrEqual(Date.now());
    expect(r.user_agent!.length).toBe(256);
    expect(ua.startsWith(r.user_agent!)).toBe(true);
  });

  it("batch, order and code reveal", async () => {
    const batch = await audited("POST", `/v1/products/${t.card.id}/batches`, { generate: { count: 5 } });
    expect([201, 202]).toContain(batch.res.status);
    expect(batch.rows).toHaveLength(1);
    expect(batch.rows[0]).toMatchObject({
      action: "POST /v1/products/{id}/batches",
      resource_id: batch.res.json.id,
      status: batch.res.status,
      actor_key_id: "admin_token",
    });
    expect(batch.rows[0].resource_id).toMatch(/^bat_/);

    const placed = await audited(
      "POST",
      "/v1/orders",
      { items: [{ product_id: t.card.id, quantity: 3 }] },
      { headers: { "idempotency-key": idemKey("audit") } },
    );
    expect(placed.res.status).toBe(201);
    for (const c of placed.res.json.items[0].codes) secrets.push(c.code, ...(c.pin ? [c.pin] : []));
    expect(placed.res.json.items[0].codes[0].pin).toBeTruthy();
    t.orderId = placed.res.json.id;
    expect(placed.rows).toHaveLength(1);
    expect(placed.rows[0]).toMatchObject({ action: "POST /v1/orders", resource_id: t.orderId, status: 201 });

    const reveal = await audited("GET", `/v1/orders/${t.orderId}`);
    expect(reveal.res.status).toBe(200);
    expect(reveal.res.json.items[0].codes).toHaveLength(3);
    expect(reveal.rows).toHaveLength(1);
    expect(reveal.rows[0]).toMatchObject({
      action: "GET /v1/orders/{id}",
      resource_id: t.orderId,
      status: 200,
      actor_channel_id: "chn_root",
    });

    // A reveal attempt of an unknown order is recorded too; plain reads are not.
    const missing = await audited("GET", "/v1/orders/ord_00000000000000000000000000");
    expect(missing.res.status).toBe(404);
    expect(missing.rows).toMatchObject([
      { action: "GET /v1/orders/{id}", resource_id: "ord_00000000000000000000000000", status: 404 },
    ]);
    for (const path of ["/v1/orders", `/v1/products/${t.card.id}`, "/v1/products", `/v1/channels/${t.A.id}`]) {
      const read = await audited("GET", path);
      expect(read.res.status, path).toBe(200);
      expect(read.rows, path).toHaveLength(0);
    }
  });

  it("key create and revoke, channel top-up, by the root and by a channel key", async () => {
    const created = await audited("POST", `/v1/channels/${t.A1.id}/keys`, { name: "spare" }, { token: t.keyA.secret });
    expect(created.res.status).toBe(201);
    secrets.push(created.res.json.secret);
    expect(created.rows).toHaveLength(1);
    expect(created.rows[0]).toMatchObject({
      actor_key_id: t.keyA.id,
      actor_channel_id: t.A.id,
      action: "POST /v1/channels/{id}/keys",
      resource_id: created.res.json.id,
      status: 201,
    });

    const revoked = await audited("DELETE", `/v1/channels/${t.A1.id}/keys/${created.res.json.id}`, undefined, {
      token: t.keyA.secret,
    });
    expect(revoked.res.status).toBe(200);
    expect(revoked.rows).toMatchObject([
      {
        actor_key_id: t.keyA.id,
        action: "DELETE /v1/channels/{id}/keys/{key_id}",
        resource_id: created.res.json.id,
        status: 200,
      },
    ]);

    const top = await audited(
      "POST",
      `/v1/channels/${t.A.id}/balance`,
      { amount: 10_000, currency: "CNY", note: "audit" },
      { headers: { "idempotency-key": idemKey("top") } },
    );
    expect(top.res.status).toBeLessThan(300);
    expect(top.rows).toMatchObject([
      {
        actor_key_id: "admin_token",
        action: "POST /v1/channels/{id}/balance",
        resource_id: t.A.id,
        status: top.res.status,
      },
    ]);
  });

  it("failed mutations are logged with their status; 401s are not", async () => {
    const topupProduct = await createProduct({ kind: "topup", name: "Audit topup" });
    const refused = await audited(
      "POST",
      "/v1/orders",
      { items: [{ product_id: topupProduct.id, quantity: 1 }] },
      { headers: { "idempotency-key": idemKey("audit") } },
    );
    expect(refused.res.status).toBe(422);
    expect(refused.rows).toMatchObject([
      { action: "POST /v1/orders", status: 422, resource_id: null, actor_key_id: "admin_token" },
    ]);

    const invalid = await audited("PATCH", `/v1/products/${t.card.id}`, { price: -1 });
    expect(invalid.res.status).toBe(400);
    expect(invalid.rows).toMatchObject([{ action: "PATCH /v1/products/{id}", status: 400, resource_id: t.card.id }]);

    const forbidden = await audited(
      "POST",
      "/v1/products",
      { name: "x", kind: "code", price: 1, currency: "CNY" },
      { token: t.keyA.secret },
    );
    expect(forbidden.res.status).toBe(403);
    expect(forbidden.rows).toMatchObject([
      { action: "POST /v1/products", status: 403, actor_key_id: t.keyA.id, actor_channel_id: t.A.id },
    ]);

    for (const token of [null, "vek_unknown_key_0000000000000000", "wrong"]) {
      const anon = await audited(
        "POST",
        "/v1/products",
        { name: "x", kind: "code", price: 1, currency: "CNY" },
        { token },
      );
      expect(anon.res.status).toBe(401);
      expect(anon.rows).toHaveLength(0);
    }
  });

  it("no row holds a code, a PIN, a key secret or the admin token", async () => {
    // Some more secrets: a channel order with codes, a code import, a redemption.
    const imported = ["AUDITIMPORT-0001-SECRET", "AUDITIMPORT-0002-SECRET"];
    const imp = await call("POST", `/v1/products/${t.card.id}/batches`, {
      import: { codes: imported.map((code, i) => ({ code, pin: `98765${i}` })) },
    });
    expect([201, 202]).toContain(imp.status);
    secrets.push(...imported, "987650", "987651");
    const more = await order([{ product_id: t.card.id, quantity: 2 }]);
    expect(more.status).toBe(201);
    for (const c of more.json.items[0].codes) secrets.push(c.code, c.pin);
    const redeem = await call("POST", "/v1/redemptions", {
      code: more.json.items[0].codes[0].code,
      pin: more.json.items[0].codes[0].pin,
    });
    expect(redeem.status).toBeLessThan(300);
    await call("GET", `/v1/orders/${more.json.id}`);

    const rows = await allRows();
    expect(rows.length).toBeGreaterThan(10);
    const dump = JSON.stringify(rows).toUpperCase();
    expect(secrets.length).toBeGreaterThan(15);
    for (const s of [...secrets, ADMIN]) {
      expect(dump.includes(s.toUpperCase()), `an audit row holds ${s.slice(0, 6)}…`).toBe(false);
      const bare = s.replace(/-/g, "").toUpperCase();
      if (bare.length >= 8) expect(dump.includes(bare)).toBe(false);
    }
    const columns = (
      await env.DB.prepare("SELECT name FROM pragma_table_info('audit_log')").all<{ name: string }>()
    ).results.map((c) => c.name);
    expect(columns.sort()).toEqual([
      "action",
      "actor_channel_id",
      "actor_key_id",
      "at",
      "id",
      "ip",
      "request_id",
      "resource_id",
      "status",
      "user_agent",
    ]);
  });
});

describe("GET /v1/audit", () => {
  it("a channel key sees only its subtree's entries; 403 without the scope", async () => {
    // Entries by A1 (inside A's subtree) and by B (outside it).
    expect(
      (
        await call(
          "POST",
          "/v1/channels",
          { name: "Audit A1x", type: "store", parent_id: t.A1.id },
          { token: t.keyA1.secret },
        )
      ).status,
    ).toBe(201);
    expect((await call("POST", `/v1/channels/${t.B.id}/keys`, { name: "B2" }, { token: t.keyB.secret })).status).toBe(
      201,
    );

    const seen: Row[] = [];
    let cursor: string | null = null;
    do {
      const res = await call("GET", `/v1/audit?limit=100${cursor ? `&cursor=${cursor}` : ""}`, undefined, {
        token: t.keyA.secret,
      });
      expect(res.status).toBe(200);
      seen.push(...res.json.data);
      cursor = res.json.next_cursor;
    } while (cursor);
    const channels = new Set(seen.map((r) => r.actor_channel_id));
    expect(channels.has(t.A.id)).toBe(true);
    expect(channels.has(t.A1.id)).toBe(true);
    expect([...channels].every((c) => c === t.A.id || c === t.A1.id)).toBe(true);
    const expected = (await allRows()).filter((r) => r.actor_channel_id === t.A.id || r.actor_channel_id === t.A1.id);
    expect(seen.map((r) => r.id).sort()).toEqual(expected.map((r) => r.id).sort());

    const a1 = await call("GET", "/v1/audit", undefined, { token: t.keyA1.secret });
    expect(a1.status).toBe(200);
    expect(a1.json.data.length).toBeGreaterThan(0);
    expect(a1.json.data.every((r: Row) => r.actor_channel_id === t.A1.id)).toBe(true);

    const b = await call("GET", "/v1/audit?limit=100", undefined, { token: t.keyB.secret });
    expect(b.json.data.every((r: Row) => r.actor_channel_id === t.B.id)).toBe(true);
    expect(b.json.data.length).toBeGreaterThan(0);

    // The root sees all of it.
    const root = await call("GET", "/v1/audit?limit=100");
    const rootChannels = new Set(root.json.data.map((r: Row) => r.actor_channel_id));
    for (const c of ["chn_root", t.A.id, t.A1.id, t.B.id]) expect(rootChannels.has(c), c).toBe(true);

    const noScope = await newKey(t.A.id, { scopes: ["orders:read", "channels:read"] });
    const refused = await call("GET", "/v1/audit", undefined, { token: noScope.secret });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("forbidden");
    // An explicit audit:read key of a channel works.
    const auditor = await newKey(t.A.id, { scopes: ["audit:read"] });
    expect((await call("GET", "/v1/audit", undefined, { token: auditor.secret })).status).toBe(200);
  });

  it("entries have the documented shape", async () => {
    const res = await call("GET", "/v1/audit?limit=1");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.json).toMatchObject({ object: "list", has_more: true });
    expect(res.json.data[0]).toEqual({
      id: expect.stringMatching(/^aud_/),
      object: "audit_entry",
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      actor_key_id: expect.any(String),
      actor_channel_id: expect.any(String),
      action: expect.any(String),
      resource_id: expect.toSatisfy((v: unknown) => v === null || typeof v === "string"),
      status: expect.any(Number),
      ip: null,
      user_agent: null,
      request_id: expect.any(String),
    });
  });

  it("filters: actor_key_id, action prefix, resource_id, from / to", async () => {
    const byKey = await call("GET", `/v1/audit?limit=100&actor_key_id=${t.keyA.id}`);
    expect(byKey.json.data.length).toBeGreaterThanOrEqual(3);
    expect(byKey.json.data.every((r: Row) => r.actor_key_id === t.keyA.id)).toBe(true);

    const byAction = await call("GET", `/v1/audit?limit=100&action=${encodeURIComponent("POST /v1/channels/")}`);
    expect(byAction.json.data.length).toBeGreaterThan(0);
    expect(byAction.json.data.every((r: Row) => r.action.startsWith("POST /v1/channels/"))).toBe(true);
    const exact = await call("GET", `/v1/audit?action=${encodeURIComponent("GET /v1/orders/{id}")}`);
    expect(exact.json.data.every((r: Row) => r.action === "GET /v1/orders/{id}")).toBe(true);
    expect(exact.json.data.length).toBeGreaterThanOrEqual(2);
    // A prefix is literal: LIKE wildcards match nothing.
    expect((await call("GET", `/v1/audit?action=${encodeURIComponent("POST %")}`)).json.data).toHaveLength(0);

    const byResource = await call("GET", `/v1/audit?resource_id=${t.orderId}`);
    expect(byResource.json.data.map((r: Row) => r.action).sort()).toEqual(["GET /v1/orders/{id}", "POST /v1/orders"]);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = new Date(Date.parse(t.start) - 3_600_000).toISOString();
    expect((await call("GET", `/v1/audit?from=${encodeURIComponent(future)}`)).json.data).toHaveLength(0);
    expect((await call("GET", `/v1/audit?to=${encodeURIComponent(past)}`)).json.data).toHaveLength(0);
    const window = await call(
      "GET",
      `/v1/audit?limit=100&from=${encodeURIComponent(t.start)}&to=${encodeURIComponent(future)}&actor_key_id=${t.keyA.id}`,
    );
    expect(window.json.data.length).toBe(byKey.json.data.length);

    for (const bad of ["limit=0", "limit=101", "from=yesterday", "cursor=nope!", "to=2027-13-01"]) {
      const res = await call("GET", `/v1/audit?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.json.error.code).toBe("validation_error");
    }
  });

  it("paginates newest first without gaps or repeats", async () => {
    const all = (await allRows()).map((r) => r.id).reverse();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call("GET", `/v1/audit?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.json.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.json.data.map((r: Row) => r.id));
      expect(res.json.has_more).toBe(res.json.next_cursor !== null);
      cursor = res.json.next_cursor;
      pages++;
    } while (cursor && pages < 200);
    // GET /v1/audit leaves no rows, so the log did not move while paging.
    expect(seen).toEqual(all);
    expect(pages).toBeGreaterThan(3);
  });

  it("cannot be changed through the API", async () => {
    const before = await allRows();
    const target = before[0].id;
    const attempts: [string, string, unknown][] = [
      ["POST", "/v1/audit", { action: "forged" }],
      ["PUT", "/v1/audit", {}],
      ["PATCH", "/v1/audit", {}],
      ["DELETE", "/v1/audit", undefined],
      ["GET", `/v1/audit/${target}`, undefined],
      ["PUT", `/v1/audit/${target}`, { status: 200 }],
      ["PATCH", `/v1/audit/${target}`, { status: 200 }],
      ["DELETE", `/v1/audit/${target}`, undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      expect(res.status, `${method} ${path}`).not.toBe(200);
    }
    const after = await allRows();
    // Every earlier row is still there, unchanged; the attempts were themselves recorded.
    expect(after.slice(0, before.length)).toEqual(before);
    const added = after.slice(before.length);
    expect(added.filter((r) => r.action.startsWith("GET")).length).toBe(0);
    expect(added.length).toBe(attempts.filter(([m]) => m !== "GET").length);
    expect(added.every((r) => r.status === 404 && !r.action.includes("forged"))).toBe(true);
  });
});
