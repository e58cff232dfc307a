/**
 * Console users and sessions: PBKDF2 passwords, the ve_session cookie (HttpOnly, Secure,
 * SameSite=Strict), CSRF on mutations, log-out and revocation, the 5-failure lockout, identical
 * answers for unknown emails and wrong passwords, role scopes, and no password hash anywhere.
 * Roles, password hashes and a missing SESSION_SECRET: sessions-roles.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "./helpers";
import { as, createUser, login, product, session, track, uniq } from "./session-fixtures";

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
