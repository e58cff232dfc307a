import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";

async function fetchWith(overrides: Record<string, unknown>, path = "/v1/products") {
  const res = await worker.fetch(
    new Request(`http://ve.test${path}`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }),
    { ...env, ...overrides } as Env,
    createExecutionContext(),
  );
  return { status: res.status, json: (await res.json()) as any };
}

describe("secrets and auth", () => {
  it("answers 503 misconfigured naming a missing or malformed secret", async () => {
    for (const [name, value] of [
      ["CODE_HMAC_KEY", undefined],
      ["CODE_ENCRYPTION_KEY", "short"],
      ["CODE_HMAC_KEY", "!!!"],
      ["ADMIN_TOKEN", "tooshort"],
    ] as const) {
      const res = await fetchWith({ [name]: value });
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("misconfigured");
      expect(res.json.error.message).toContain(name);
    }
  });

  it("keeps liveness up even when misconfigured", async () => {
    expect((await fetchWith({ CODE_HMAC_KEY: undefined }, "/healthz")).status).toBe(200);
  });

  it("needs a bearer token, and refuses unknown ones", async () => {
    const { call } = await import("./helpers");
    expect((await call("GET", "/v1/products", undefined, { token: null })).status).toBe(401);
    expect((await call("GET", "/v1/products", undefined, { token: "vek_nope" })).json.error.code).toBe("unauthorized");
  });

  it("issues scoped API keys that are stored hashed and can be revoked", async () => {
    const { call } = await import("./helpers");
    const created = await call("POST", "/v1/channels/chn_root/keys", { name: "reader", scopes: ["products:read"] });
    expect(created.status).toBe(201);
    const secret = created.json.secret as string;
    expect(secret).toMatch(/^vek_/);
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?1")
      .bind(created.json.id)
      .first<Record<string, string>>();
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect((await call("GET", "/v1/products", undefined, { token: secret })).status).toBe(200);
    expect(
      (await call("POST", "/v1/products", { name: "x", price: 1, currency: "CNY" }, { token: secret })).status,
    ).toBe(403);
    const listed = await call("GET", "/v1/channels/chn_root/keys");
    expect(
      listed.json.data.some((k: any) => k.id === created.json.id && k.secret === undefined && k.last_used_at),
    ).toBe(true);
    await call("DELETE", `/v1/channels/chn_root/keys/${created.json.id}`);
    expect((await call("GET", "/v1/products", undefined, { token: secret })).status).toBe(401);
  });

  it("serves the OpenAPI 3.1 document without auth", async () => {
    const { call } = await import("./helpers");
    const res = await call("GET", "/v1/openapi.json", undefined, { token: null });
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe("3.1.0");
    for (const path of [
      "/v1/products",
      "/v1/orders",
      "/v1/redemptions",
      "/v1/codes/verify",
      "/v1/products/{id}/batches",
    ])
      expect(res.json.paths[path]).toBeDefined();
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });
});

describe("worker entry", () => {
  it("exports only the handler and Durable Object classes (workerd refuses any other export at start-up)", async () => {
    const entry = await import("../src/index");
    for (const [name, value] of Object.entries(entry)) {
      if (name === "default") expect(Object.keys(value as object).sort()).toEqual(["fetch", "queue", "scheduled"]);
      else expect(typeof value, name).toBe("function");
    }
  });
});
