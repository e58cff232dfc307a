/**
 * packages/client: its committed OpenAPI copy is the one the Worker serves (so the generated types are
 * current), the typed client talks to the real Worker, and its webhook verifier accepts exactly what the
 * Worker signs.
 */

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import committed from "../packages/client/openapi.json";
import { createVoucherEdgeClient } from "../packages/client/src/index";
import { verifyWebhook } from "../packages/client/src/webhooks";
import { signPayload } from "../src/domain/webhook-signature";
import worker from "../src/index";
import { ADMIN, call } from "./helpers";

const workerFetch = (async (input: Request) => {
  const ctx = createExecutionContext();
  const res = await worker.fetch(input as Parameters<typeof worker.fetch>[0], env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}) as typeof fetch;

describe("the client package", () => {
  it("carries the OpenAPI document the Worker serves (run `npm run client:generate` when this fails)", async () => {
    const served = await call("GET", "/v1/openapi.json", undefined, { token: null });
    expect(served.status).toBe(200);
    expect(served.json).toEqual(committed);
  });

  it("calls the real Worker with typed paths, bodies and errors", async () => {
    const ve = createVoucherEdgeClient({ baseUrl: "http://ve.test", apiKey: ADMIN, fetch: workerFetch });
    const created = await ve.POST("/v1/products", { body: { name: "Client card", price: 990, currency: "CNY" } });
    expect(created.response.status).toBe(201);
    const id = created.data!.id;
    const got = await ve.GET("/v1/products/{id}", { params: { path: { id } } });
    expect(got.data?.name).toBe("Client card");
    const missing = await ve.GET("/v1/products/{id}", { params: { path: { id: "prd_doesnotexist" } } });
    expect(missing.response.status).toBe(404);
    expect((missing.error as { error: { code: string } }).error.code).toBe("not_found");
  });

  it("verifies what the Worker signs, and nothing else", async () => {
    const secret = "whsec_client_package_test_secret";
    const body = JSON.stringify({ id: "evt_1", type: "order.fulfilled" });
    const now = 1_800_000_000;
    const header = await signPayload(secret, body, now);
    expect(await verifyWebhook(secret, body, header, { nowSeconds: now })).toEqual({ ok: true, timestamp: now });
    expect((await verifyWebhook(secret, `${body} `, header, { nowSeconds: now })).ok).toBe(false);
    expect(await verifyWebhook("whsec_other", body, header, { nowSeconds: now })).toMatchObject({ reason: "mismatch" });
    expect(await verifyWebhook(secret, body, header, { nowSeconds: now + 301 })).toMatchObject({
      reason: "timestamp_out_of_tolerance",
    });
    expect(await verifyWebhook(secret, body, "v1=zz")).toMatchObject({ reason: "malformed" });
  });
});
