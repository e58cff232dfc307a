/**
 * Reading the audit log (GET /v1/audit): a channel sees only its subtree's entries, the documented shape,
 * filters, pagination without gaps, and no way to change the log through the API. What leaves a row:
 * audit.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { allRows, auditTrail, buildAuditTree, newKey, type Row, t } from "./audit-fixtures";
import { call } from "./helpers";

beforeAll(async () => {
  await buildAuditTree();
  await auditTrail();
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
