/**
 * Console sessions beyond log-in: what each role may do, no password hash in any response or audit row, hashes
 * written by npm run setup, and the routes without SESSION_SECRET. Log-in and session auth: sessions.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createChannel } from "./channel-fixtures";
import { call } from "./helpers";
import { as, createUser, ip, login, PASSWORD, product, seen, session, track, uniq } from "./session-fixtures";

describe("roles", () => {
  it("finance reads but cannot create products or manage users", async () => {
    const s = await session((await createUser("finance")).email);
    expect((await as(s, "GET", "/v1/products")).status).toBe(200);
    expect((await as(s, "GET", "/v1/audit")).status).toBe(200);
    const post = await as(s, "POST", "/v1/products", product);
    expect(post.status).toBe(403);
    expect(post.json.error.code).toBe("forbidden");
    expect((await as(s, "POST", "/v1/users", { email: uniq("x"), password: PASSWORD, role: "finance" })).status).toBe(
      403,
    );
    expect((await as(s, "GET", "/v1/users")).status).toBe(403);
  });

  it("a channel_manager sees only its channel's subtree", async () => {
    const a = await createChannel("Mgr A", "partner");
    const a1 = await createChannel("Mgr A1", "store", a.id);
    const b = await createChannel("Mgr B", "partner");
    const s = await session((await createUser("channel_manager", { channel_id: a.id })).email);
    expect((await as(s, "GET", `/v1/channels/${a.id}`)).status).toBe(200);
    expect((await as(s, "GET", `/v1/channels/${a1.id}`)).status).toBe(200);
    expect((await as(s, "GET", `/v1/channels/${b.id}`)).status).toBe(404);
    expect((await as(s, "GET", "/v1/channels/chn_root")).status).toBe(404);
    const list = await as(s, "GET", "/v1/channels?limit=100");
    expect(list.status).toBe(200);
    const ids = list.json.data.map((c: { id: string }) => c.id);
    expect(ids).toContain(a1.id);
    expect(ids).not.toContain(b.id);
    expect((await as(s, "POST", "/v1/products", product)).status).toBe(403);
  });

  it("owners and admins manage users; admins cannot create or change owners; API keys never may", async () => {
    const admin = await session((await createUser("admin")).email);
    expect((await as(admin, "POST", "/v1/users", { email: uniq("o"), password: PASSWORD, role: "owner" })).status).toBe(
      403,
    );
    const op = await as(admin, "POST", "/v1/users", { email: uniq("op"), password: PASSWORD, role: "operator" });
    expect(op.status).toBe(201);
    expect((await as(admin, "PATCH", `/v1/users/${op.json.id}`, { role: "owner" })).status).toBe(403);
    expect((await as(admin, "PATCH", `/v1/users/${op.json.id}`, { role: "auditor" })).json.role).toBe("auditor");
    const owner = await createUser("owner");
    expect((await as(admin, "PATCH", `/v1/users/${owner.id}`, { status: "disabled" })).status).toBe(403);
    const list = await as(admin, "GET", "/v1/users?limit=2");
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(2);
    expect(list.json.has_more).toBe(true);
    const next = await as(admin, "GET", `/v1/users?limit=2&cursor=${list.json.next_cursor}`);
    expect(next.json.data[0].id > list.json.data[1].id).toBe(true);
    const dup = await track(
      call("POST", "/v1/users", { email: owner.email.toUpperCase(), password: PASSWORD, role: "finance" }),
    );
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("email_taken");
    const bad = await track(
      call("POST", "/v1/users", { email: uniq("cm"), password: PASSWORD, role: "channel_manager" }),
    );
    expect(bad.status).toBe(400);
    expect(
      (await track(call("POST", "/v1/users", { email: uniq("short"), password: "short", role: "finance" }))).status,
    ).toBe(400);
    const key = await track(call("POST", "/v1/channels/chn_root/keys", { name: "all scopes" }));
    const byKey = await track(call("GET", "/v1/users", undefined, { token: key.json.secret }));
    expect(byKey.status).toBe(403);
  });
});

describe("no password hash anywhere", () => {
  it("never appears in an API response or the audit log", async () => {
    // Users, log-ins and a session of its own (the scan also covers every response this file's other tests saw).
    const made = [];
    for (const role of ["admin", "operator", "finance", "finance", "auditor", "auditor"])
      made.push(await createUser(role));
    const s = await session(made[0].email);
    expect((await as(s, "GET", "/v1/sessions/current")).status).toBe(200);
    expect((await login(made[1].email, "not the password at all")).status).toBe(401);
    const audit = await track(call("GET", "/v1/audit?limit=100"));
    expect(audit.status).toBe(200);
    const users = await track(call("GET", "/v1/users?limit=100"));
    expect(users.json.data.length).toBeGreaterThan(5);
    for (const text of seen) {
      expect(text).not.toMatch(/pbkdf2|password_hash/i);
      expect(text).not.toContain(PASSWORD);
    }
    const rows = JSON.stringify((await env.DB.prepare("SELECT * FROM audit_log").all()).results);
    expect(rows).not.toMatch(/pbkdf2/i);
    expect(rows).not.toContain(PASSWORD);
    expect(rows).toContain("POST /v1/users");
  });
});

describe("password hashes", () => {
  it("a hash written by npm run setup (Node's pbkdf2Sync) verifies in the Worker, in the same format", async () => {
    const { hashPassword, verifyPassword } = await import("../src/security/sessions");
    const fromNode = "pbkdf2-sha256$100000$AAECAwQFBgcICQoLDA0ODw$JMD4j7LsHrPrDZUlQOr5MXy6G6m2EH50mMw90wTsg_E";
    expect(await verifyPassword("setup password 42", fromNode)).toBe(true);
    expect(await verifyPassword("setup password 43", fromNode)).toBe(false);
    expect(await verifyPassword("setup password 42", null)).toBe(false);
    expect(await verifyPassword("x", "pbkdf2-sha256$1$AAAA$AAAA")).toBe(false);
    const mine = await hashPassword("setup password 42");
    expect(mine).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(mine).not.toBe(await hashPassword("setup password 42"));
    expect(await verifyPassword("setup password 42", mine)).toBe(true);
  });
});

describe("without SESSION_SECRET", () => {
  it("the session routes answer 503 misconfigured; API keys keep working", async () => {
    const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
    const worker = (await import("../src/index")).default;
    const bare = { ...env, SESSION_SECRET: undefined } as unknown as Env;
    const send = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`http://ve.test${path}`, {
          method,
          headers: { "content-type": "application/json", ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
        bare,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return { status: res.status, json: (await res.json()) as any };
    };
    const user = await createUser("admin");
    const login = await send(
      "POST",
      "/v1/sessions",
      { "cf-connecting-ip": ip() },
      { email: user.email, password: PASSWORD },
    );
    expect(login.status).toBe(503);
    expect(login.json.error.code).toBe("misconfigured");
    expect(login.json.error.message).toContain("SESSION_SECRET");
    expect((await send("GET", "/v1/products", { cookie: "ve_session=x.y.z" })).status).toBe(503);
    expect((await send("GET", "/v1/products", { authorization: `Bearer ${env.ADMIN_TOKEN}` })).status).toBe(200);
    expect(
      (
        await send(
          "POST",
          "/v1/users",
          { authorization: `Bearer ${env.ADMIN_TOKEN}` },
          { email: uniq("ns"), password: PASSWORD, role: "finance" },
        )
      ).status,
    ).toBe(201);
  });
});
