/** Per-key options: exact request limits, code-reveal limits, and HMAC request signing with nonces. */
import { describe, expect, it } from "vitest";
import { canonicalRequest, sign } from "../src/security/signing";
import { call, idemKey, insideOneWindow, productWithCodes } from "./helpers";

async function rootKey(options: Record<string, unknown>) {
  const res = await call("POST", "/v1/channels/chn_root/keys", options);
  expect(res.status).toBe(201);
  return res.json as { id: string; secret: string; signing_secret?: string };
}

async function signed(
  key: { secret: string; signing_secret?: string },
  method: string,
  path: string,
  body: unknown,
  opts: { t?: number; n?: string; tamper?: boolean } = {},
) {
  const raw = body === undefined ? "" : JSON.stringify(body);
  const t = String(opts.t ?? Math.floor(Date.now() / 1000));
  const n = opts.n ?? `nonce-${crypto.randomUUID()}`;
  const v1 = await sign(
    key.signing_secret!,
    await canonicalRequest(method, path, t, n, new TextEncoder().encode(raw).buffer as ArrayBuffer),
  );
  const sent = opts.tamper ? raw.replace("1", "2") : raw;
  return call(method, path, undefined, {
    token: key.secret,
    raw: sent || undefined,
    headers: {
      "content-type": "application/json",
      "x-signature": `t=${t},n=${n},v1=${v1}`,
      "idempotency-key": idemKey("sig"),
    },
  });
}

describe("per-key options", () => {
  it("enforces a key's own request limit exactly", async () => {
    const key = await rootKey({ scopes: ["products:read"], rate_limit_per_minute: 5 });
    await insideOneWindow(60_000, 10_000); // the limit counts per clock minute: all 7 requests in one
    const statuses = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await call("GET", "/v1/products?limit=1", undefined, { token: key.secret })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });

  it("caps how often a key may reveal codes", async () => {
    const product = await productWithCodes(3);
    const key = await rootKey({ reveal_limit_per_hour: 2 });
    await insideOneWindow(3_600_000, 10_000); // the cap counts per clock hour: the order and its reveals in one
    const placed = await call(
      "POST",
      "/v1/orders",
      { items: [{ product_id: product.id, quantity: 1 }] },
      { token: key.secret, headers: { "idempotency-key": idemKey("rev") } },
    );
    expect(placed.status).toBe(201);
    const reads = [];
    for (let i = 0; i < 3; i++)
      reads.push(await call("GET", `/v1/orders/${placed.json.id}`, undefined, { token: key.secret }));
    expect(reads.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(reads[2].json.error.code).toBe("reveal_limit");
    expect(Number(reads[2].headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("requires a valid, fresh, unreplayed signature from keys that ask for one", async () => {
    const product = await productWithCodes(5);
    const key = await rootKey({ require_signature: true });
    expect(key.signing_secret).toMatch(/^[\w-]{43}$/);
    const body = { items: [{ product_id: product.id, quantity: 1 }] };
    expect((await signed(key, "POST", "/v1/orders", body)).status).toBe(201);
    const unsigned = await call("POST", "/v1/orders", body, {
      token: key.secret,
      headers: { "idempotency-key": idemKey("u") },
    });
    expect([unsigned.status, unsigned.json.error.code]).toEqual([401, "invalid_signature"]);
    expect((await signed(key, "POST", "/v1/orders", body, { tamper: true })).json.error.code).toBe("invalid_signature");
    expect(
      (await signed(key, "POST", "/v1/orders", body, { t: Math.floor(Date.now() / 1000) - 301 })).json.error.code,
    ).toBe("invalid_signature");
    const nonce = `nonce-${crypto.randomUUID()}`;
    expect((await signed(key, "GET", `/v1/products/${product.id}`, undefined, { n: nonce })).status).toBe(200);
    const replay = await signed(key, "GET", `/v1/products/${product.id}`, undefined, { n: nonce });
    expect([replay.status, replay.json.error.message]).toEqual([401, "this nonce was already used"]);
    // The listing shows the options, never the secrets.
    const listed = (await call("GET", "/v1/channels/chn_root/keys")).json.data.find(
      (k: { id: string }) => k.id === key.id,
    );
    expect(listed).toMatchObject({ require_signature: true });
    expect(listed.signing_secret).toBeUndefined();
  });
});
