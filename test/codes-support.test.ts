/**
 * Support tools for codes: a masked look-up (never the value), void by id, and a reveal that needs a console
 * user's password again, is capped and lands in the audit log. Channel keys and API keys cannot use them.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createChannel, keyFor } from "./channel-fixtures";
import { call, generate, idemKey } from "./helpers";
import { eventsDrained } from "./pipeline-fixtures";
import { as, createUser, PASSWORD, session } from "./session-fixtures";

let productId: string;
let order: { id: string; items: { codes: { code: string }[] }[] };

beforeAll(async () => {
  const p = await call("POST", "/v1/products", { name: "Support card", price: 100, currency: "CNY" });
  productId = p.json.id;
  await generate(productId, 6);
  const placed = await call(
    "POST",
    "/v1/orders",
    { items: [{ product_id: productId, quantity: 2 }] },
    { headers: { "idempotency-key": idemKey("support") } },
  );
  order = placed.json;
  await eventsDrained();
});

const codes = () => order.items[0].codes.map((c) => c.code);
const last4 = (code: string) => code.replace(/[^A-Z0-9]/g, "").slice(-4);

describe("support look-up of codes", () => {
  it("finds an order's codes by order and by last 4, masked", async () => {
    const byOrder = await call("GET", `/v1/codes?order_id=${order.id}`);
    expect(byOrder.status).toBe(200);
    expect(byOrder.json.data).toHaveLength(2);
    for (const c of codes()) expect(byOrder.text).not.toContain(c);
    const target = codes()[0];
    const byLast4 = await call("GET", `/v1/codes?last4=${last4(target).toLowerCase()}&product_id=${productId}`);
    expect(byLast4.json.data.map((d: { last4: string }) => d.last4)).toContain(last4(target));
    expect(byLast4.json.data[0]).toMatchObject({ object: "code", product_id: productId });
    const issued = await call("GET", `/v1/codes?status=issued&product_id=${productId}&limit=1`);
    expect(issued.json.data).toHaveLength(1);
    const next = await call(
      "GET",
      `/v1/codes?status=issued&product_id=${productId}&limit=1&cursor=${issued.json.next_cursor}`,
    );
    expect(next.json.data[0].id).not.toBe(issued.json.data[0].id);
  });

  it("is the merchant's alone", async () => {
    const shop = await createChannel("Support shop", "own_store");
    const key = await keyFor(shop.id);
    expect((await call("GET", "/v1/codes?last4=ABCD", undefined, { token: key })).status).toBe(403);
  });

  it("voids a code by id, after which it cannot be redeemed", async () => {
    const found = await call("GET", `/v1/codes?order_id=${order.id}`);
    const target = found.json.data.find((d: { last4: string }) => d.last4 === last4(codes()[1]));
    const voided = await call("POST", `/v1/codes/${target.id}/void`, { reason: "leaked on a forum" });
    expect(voided.status).toBe(200);
    expect(voided.json.status).toBe("voided");
    expect((await call("POST", "/v1/redemptions", { code: codes()[1] })).status).toBeGreaterThanOrEqual(400);
    expect((await call("POST", `/v1/codes/${target.id}/void`, { reason: "again" })).status).toBe(409);
    expect((await call("POST", "/v1/codes/cod_00112233445566778899/void", { reason: "x" })).status).toBe(404);
  });

  it("reveals a code only to a console user who re-enters the password, and audits it", async () => {
    const found = await call("GET", `/v1/codes?order_id=${order.id}`);
    const target = found.json.data.find((d: { last4: string }) => d.last4 === last4(codes()[0]));
    // The admin token is not a person: no password to check.
    expect((await call("POST", `/v1/codes/${target.id}/reveal`, { password: PASSWORD })).json.error.code).toBe(
      "session_required",
    );
    const owner = await session((await createUser("owner")).email);
    const wrong = await as(owner, "POST", `/v1/codes/${target.id}/reveal`, { password: "not the password" });
    expect(wrong.status).toBe(403);
    expect(wrong.json.error.code).toBe("password_mismatch");
    expect(wrong.text).not.toContain(codes()[0]);
    const shown = await as(owner, "POST", `/v1/codes/${target.id}/reveal`, { password: PASSWORD });
    expect(shown.status).toBe(200);
    expect(shown.json.code).toBe(codes()[0]);
    expect(shown.headers.get("cache-control")).toBe("no-store");
    const audit = await env.DB.prepare(
      "SELECT action, resource_id FROM audit_log WHERE action LIKE '%/reveal' ORDER BY rowid",
    ).all<{ action: string; resource_id: string }>();
    expect(audit.results.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(audit.results)).not.toContain(codes()[0]);
    // Roles without codes:write cannot reveal.
    const auditor = await session((await createUser("auditor")).email);
    expect((await as(auditor, "POST", `/v1/codes/${target.id}/reveal`, { password: PASSWORD })).status).toBe(403);
  });
});
