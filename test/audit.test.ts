/**
 * The audit log: every authenticated mutation and every code reveal leaves one row with actor, action
 * (route pattern), resource, status, IP, user agent and request id; never a code, PIN or key secret.
 * A channel reads only its subtree's entries; nothing in the API changes the log.
 * Reading the log (GET /v1/audit): audit-read.test.ts.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { allRows, audited, buildAuditTree, newKey, secrets, t } from "./audit-fixtures";
import { ADMIN, call, createProduct, idemKey, order } from "./helpers";

beforeAll(buildAuditTree);

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
    // Enough of its own (codes, PINs, a key secret) that the check does not depend on what the other tests made.
    await newKey(t.A1.id, { name: "scan" });
    const more = await order([{ product_id: t.card.id, quantity: 4 }]);
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
