/**
 * Console users and sessions: PBKDF2 passwords, the ve_session cookie (HttpOnly, Secure,
 * SameSite=Strict), CSRF on mutations, log-out and revocation, the 5-failure lockout, identical
 * answers for unknown emails and wrong passwords, role scopes, and no password hash anywhere.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createChannel } from "./channel-fixtures";
import { call } from "./helpers";

const PASSWORD = "correct horse battery staple";
let seq = 0;
const uniq = (label: string) => `${label}-${Date.now().toString(36)}-${++seq}@example.com`;
const ip = () => `198.51.100.${(++seq % 250) + 1}`;
/** Every response text of this file, checked for password hashes at the end. */
const seen: string[] = [];

async function track<T extends { text: string }>(p: Promise<T>): Promise<T> {
  const res = await p;
  seen.push(res.text);
  return res;
}

async function createUser(role: string, extra: Record<string, unknown> = {}, email = uniq(role)) {
  const res = await track(call("POST", "/v1/users", { email, password: PASSWORD, role, ...extra }));
  if (res.status !== 201) throw new Error(`createUser: ${res.status} ${res.text}`);
  return { ...(res.json as { id: string; email: string }), email };
}

async function login(email: string, password = PASSWORD, from = ip()) {
  return track(
    call("POST", "/v1/sessions", { email, password }, { token: null, headers: { "cf-connecting-ip": from } }),
  );
}

interface Session {
  cookie: string;
  csrf: string;
  id: string;
}

async function session(email: string): Promise<Session> {
  const res = await login(email);
  if (res.status !== 201) throw new Error(`login: ${res.status} ${res.text}`);
  const jwt = /ve_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1];
  return { cookie: `ve_session=${jwt}`, csrf: res.json.csrf_token, id: res.json.id };
}

function as(s: Session, method: string, path: string, body?: unknown, csrf: string | null = s.csrf) {
  return track(
    call(method, path, body, {
      token: null,
      headers: { cookie: s.cookie, ...(csrf === null ? {} : { "x-csrf-token": csrf }) },
    }),
  );
}

const product = { name: "Session product", kind: "code", price: 1500, currency: "CNY" };

describe("log-in", () => {
  it("sets an HttpOnly, Secure, SameSite=Strict cookie and returns a CSRF token, never the hash", async () => {
    const user = await createUser("admin");
    const res = await login(user.email.toUpperCase());
    expect(res.status).toBe(201);
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^ve_session=[\w-]+\.[\w-]+\.[\w-]+;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    expect(res.json.csrf_token).toMatch(/^[\w-]{40,}$/);
    expect(res.json.user).toMatchObject({ id: user.id, role: "admin", email: user.email });
    expect(res.text).not.toMatch(/pbkdf2|password/i);
    const row = await env.DB.prepare(
      "SELECT password_hash, csrf_hash FROM users u JOIN sessions s ON s.user_id = u.id WHERE s.id = ?1",
    )
      .bind(res.json.id)
      .first<{ password_hash: string; csrf_hash: string }>();
    expect(row!.password_hash).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(row!.csrf_hash).not.toBe(res.json.csrf_token);
    expect(row!.csrf_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("answers unknown emails and wrong passwords identically", async () => {
    const user = await createUser("operator");
    const wrong = await login(user.email, "not the password at all");
    const unknown = await login(uniq("nobody"), "not the password at all");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json.error.code).toBe("invalid_credentials");
    expect({ ...unknown.json.error, request_id: undefined }).toEqual({ ...wrong.json.error, request_id: undefined });
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("locks an email for 15 minutes after 5 failures, even for the right password", async () => {
    const user = await createUser("operator");
    for (let i = 0; i < 5; i++) expect((await login(user.email, `wrong password ${i}`)).status).toBe(401);
    const locked = await login(user.email);
    expect(locked.status).toBe(429);
    expect(locked.json.error.code).toBe("too_many_failures");
    const retry = Number(locked.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
    expect(locked.headers.get("set-cookie")).toBeNull();
    // Once the lock has passed, the right password works again and the counter starts afresh.
    await env.DB.prepare("UPDATE users SET locked_until = ?2 WHERE id = ?1")
      .bind(user.id, Date.now() - 1)
      .run();
    expect((await login(user.email)).status).toBe(201);
  });

  it("locks an unknown email the same way, so the lockout does not reveal which emails exist", async () => {
    const ghost = `nobody-${crypto.randomUUID()}@example.com`;
    for (let i = 0; i < 5; i++) expect((await login(ghost, `wrong password ${i}`)).status).toBe(401);
    const locked = await login(ghost);
    expect([locked.status, locked.json.error.code]).toEqual([429, "too_many_failures"]);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(800);
  });

  it("a successful log-in resets the failure count", async () => {
    const user = await createUser("finance");
    for (let i = 0; i < 4; i++) expect((await login(user.email, "wrong password")).status).toBe(401);
    expect((await login(user.email)).status).toBe(201);
    for (let i = 0; i < 4; i++) expect((await login(user.email, "wrong password")).status).toBe(401);
    expect((await login(user.email)).status).toBe(201);
  });

  it("refuses disabled users and malformed bodies", async () => {
    const user = await createUser("auditor");
    expect((await track(call("PATCH", `/v1/users/${user.id}`, { status: "disabled" }))).status).toBe(200);
    expect((await login(user.email)).status).toBe(401);
    const bad = await track(call("POST", "/v1/sessions", { email: 1 }, { token: null }));
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBeTruthy();
  });
});

describe("session auth", () => {
  it("reads with the cookie, and mutations need the right X-CSRF-Token", async () => {
    const s = await session((await createUser("operator")).email);
    expect((await as(s, "GET", "/v1/products")).status).toBe(200);
    const current = await as(s, "GET", "/v1/sessions/current");
    expect(current.status).toBe(200);
    expect(current.json.user.role).toBe("operator");
    const missing = await as(s, "POST", "/v1/products", product, null);
    expect(missing.status).toBe(403);
    expect(missing.json.error.code).toBe("csrf_failed");
    const wrong = await as(s, "POST", "/v1/products", product, "x".repeat(43));
    expect(wrong.status).toBe(403);
    expect(wrong.json.error.code).toBe("csrf_failed");
    const right = await as(s, "POST", "/v1/products", product);
    expect(right.status).toBe(201);
    // The audit log names the session.
    const audit = await env.DB.prepare("SELECT actor_key_id FROM audit_log WHERE resource_id = ?1")
      .bind(right.json.id)
      .first<{ actor_key_id: string }>();
    expect(audit?.actor_key_id).toBe(`session:${s.id}`);
  });

  it("refuses forged, tampered and garbage cookies", async () => {
    const s = await session((await createUser("admin")).email);
    const [h, p, sig] = s.cookie.slice("ve_session=".length).split(".");
    const tampered = `ve_session=${h}.${p}.${sig.slice(0, -2)}${sig.endsWith("AA") ? "BB" : "AA"}`;
    for (const cookie of [
      tampered,
      "ve_session=garbage",
      `ve_session=${h}.${p}.`,
      "ve_session=eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4In0.",
    ]) {
      const res = await track(call("GET", "/v1/products", undefined, { token: null, headers: { cookie } }));
      expect(res.status, cookie).toBe(401);
      expect(res.json.error.code).toBe("unauthorized");
    }
  });

  it("log-out ends the session", async () => {
    const s = await session((await createUser("operator")).email);
    expect((await as(s, "DELETE", "/v1/sessions/current", undefined, null)).json.error.code).toBe("csrf_failed");
    const out = await as(s, "DELETE", "/v1/sessions/current");
    expect(out.status).toBe(200);
    expect(out.json.revoked_at).toBeTruthy();
    expect(out.headers.get("set-cookie")).toMatch(/ve_session=;.*Max-Age=0/i);
    expect((await as(s, "GET", "/v1/products")).status).toBe(401);
    expect((await as(s, "GET", "/v1/sessions/current")).status).toBe(401);
  });

  it("DELETE /v1/users/{id}/sessions revokes every session of the user; a password reset too", async () => {
    const user = await createUser("operator");
    const [a, b] = [await session(user.email), await session(user.email)];
    const res = await track(call("DELETE", `/v1/users/${user.id}/sessions`));
    expect(res.status).toBe(200);
    expect(res.json.revoked).toBe(2);
    expect((await as(a, "GET", "/v1/products")).status).toBe(401);
    expect((await as(b, "GET", "/v1/products")).status).toBe(401);
    const c = await session(user.email);
    expect((await track(call("PATCH", `/v1/users/${user.id}`, { password: "a brand new password!" }))).status).toBe(
      200,
    );
    expect((await as(c, "GET", "/v1/products")).status).toBe(401);
    expect((await login(user.email)).status).toBe(401);
    expect((await login(user.email, "a brand new password!")).status).toBe(201);
  });

  it("an API key's bearer token answers /v1/sessions/current with no_session", async () => {
    const res = await track(call("GET", "/v1/sessions/current"));
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("no_session");
  });
});

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
