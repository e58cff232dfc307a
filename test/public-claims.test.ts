/**
 * Campaign claims from a consumer's browser on the real runtime: only campaigns that allow them, Turnstile
 * checked at a local fake of siteverify (the real form request and JSON answer, tokens single-use), an exact
 * budget per IP under concurrency, and the campaign's own budget still exact across many IPs.
 */
import { describe, expect, it } from "vitest";
import { callEnv, freshIp, ORIGIN, publishableKey } from "./gateway-counterparts/fixtures";
import { call, idemKey, productWithCodes } from "./helpers";
import { TURNSTILE_TEST_SECRET } from "./servers/turnstile-secret";

const iso = (ms: number) => new Date(ms).toISOString();

async function consumerCampaign(productId: string, overrides: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/campaigns", {
    name: "Browser trial",
    product_id: productId,
    starts_at: iso(Date.now() - 60_000),
    ends_at: iso(Date.now() + 3_600_000),
    max_claims: 100,
    consumer_claims: true,
    ...overrides,
  });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

const claim = (
  pk: string,
  campaignId: string,
  body: Record<string, unknown>,
  o: { ip?: string; env?: Record<string, unknown>; key?: string } = {},
) =>
  callEnv("POST", `/v1/public/campaigns/${campaignId}/claims`, {
    token: pk,
    body,
    headers: { origin: ORIGIN, "idempotency-key": o.key ?? idemKey("pc"), "cf-connecting-ip": o.ip ?? freshIp() },
    env: o.env,
  });

describe("consumer claims (POST /v1/public/campaigns/{id}/claims)", () => {
  it("serve only campaigns that allow them, to keys whose subtree holds the campaign", async () => {
    const product = await productWithCodes(5, { price: 500 });
    const pk = await publishableKey();
    const closed = await consumerCampaign(product.id, { consumer_claims: false });
    const refused = await claim(pk, closed, { customer_ref: "u1" });
    expect(refused.status).toBe(404);
    const open = await consumerCampaign(product.id);
    const got = await claim(pk, open, { customer_ref: "u1" });
    expect(got.status, got.text).toBe(201);
    expect(got.json.code.code).toMatch(/\S{8,}/);
    expect(got.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect((await call("GET", `/v1/campaigns/${open}`)).json.consumer_claims).toBe(true);
    expect((await claim("pk_not_a_real_key_000000000000000", open, { customer_ref: "u2" })).status).toBe(401);
  });

  it("check the Turnstile token where TURNSTILE_SECRET is set: missing, refused, reused, accepted", async () => {
    const product = await productWithCodes(5, { price: 500 });
    const pk = await publishableKey();
    const id = await consumerCampaign(product.id);
    const env = { TURNSTILE_SECRET: TURNSTILE_TEST_SECRET };
    const missing = await claim(pk, id, { customer_ref: "t1" }, { env });
    expect(missing.status).toBe(403);
    expect(missing.json.error.code).toBe("turnstile_failed");
    const bad = await claim(pk, id, { customer_ref: "t1", turnstile_token: "forged" }, { env });
    expect(bad.json.error).toMatchObject({
      code: "turnstile_failed",
      details: { turnstile_errors: ["invalid-input-response"] },
    });
    const token = `pass-${crypto.randomUUID()}`;
    const ok = await claim(pk, id, { customer_ref: "t1", turnstile_token: token }, { env });
    expect(ok.status, ok.text).toBe(201);
    const reused = await claim(pk, id, { customer_ref: "t2", turnstile_token: token }, { env });
    expect(reused.json.error).toMatchObject({
      code: "turnstile_failed",
      details: { turnstile_errors: ["timeout-or-duplicate"] },
    });
    const wrongSecret = await claim(
      pk,
      id,
      { customer_ref: "t3", turnstile_token: `pass-${crypto.randomUUID()}` },
      { env: { TURNSTILE_SECRET: "0x4AAAAAAAwrong" } },
    );
    expect(wrongSecret.json.error.details.turnstile_errors).toEqual(["invalid-input-secret"]);
    // Unreachable siteverify: a clean, retryable 503.
    const down = await claim(
      pk,
      id,
      { customer_ref: "t4", turnstile_token: "pass-x" },
      { env: { ...env, TURNSTILE_VERIFY_URL: "http://127.0.0.1:9/siteverify" } },
    );
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
  });

  it("give one IP exactly its budget when it claims 12 times at once", async () => {
    const product = await productWithCodes(20, { price: 500 });
    const pk = await publishableKey();
    const id = await consumerCampaign(product.id);
    const ip = freshIp();
    const env = { CONSUMER_CLAIMS_PER_IP: "3/3600" };
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => claim(pk, id, { customer_ref: `ip-${i}` }, { ip, env })),
    );
    const granted = answers.filter((a) => a.status === 201);
    expect(granted).toHaveLength(3);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited).toHaveLength(9);
    expect(
      limited.every((a) => a.json.error.code === "too_many_claims" && Number(a.headers.get("retry-after")) > 0),
    ).toBe(true);
    expect(new Set(granted.map((a) => a.json.code.code)).size).toBe(3);
    // Another network is not affected.
    expect((await claim(pk, id, { customer_ref: "elsewhere" }, { env })).status).toBe(201);
  });

  it("keep the campaign's budget exact across 60 browsers at once, each customer once", async () => {
    const product = await productWithCodes(60, { price: 500 });
    const pk = await publishableKey();
    const id = await consumerCampaign(product.id, { max_claims: 25 });
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => claim(pk, id, { customer_ref: `b-${i % 40}` })),
    );
    const granted = answers.filter((a) => a.status === 201);
    expect(granted).toHaveLength(25);
    expect(new Set(granted.map((a) => a.json.customer_ref)).size).toBe(25);
    expect(new Set(granted.map((a) => a.json.code.code)).size).toBe(25);
    const codes = new Set(answers.filter((a) => a.status === 409).map((a) => a.json.error.code));
    expect([...codes].every((c) => c === "budget_exhausted" || c === "already_claimed")).toBe(true);
    expect(answers.every((a) => a.status < 500)).toBe(true);
  });
});
