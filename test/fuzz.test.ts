/**
 * Fuzzing every /v1 route through the real Worker. The contract under test (DESIGN §3):
 * bad input never yields a 5xx, and every error is JSON `{"error": {"code": snake_case, "message"}}`.
 * Real products, codes, orders, redemptions and keys exist first, so mutated-but-close
 * inputs reach the deep checks (stock, PINs, windows, idempotency), not only zod.
 *
 * The properties call the Worker's fetch handler directly (see fuzz-transport.ts for why);
 * the hand-picked cases and the body-limit tests also go through exports.default.fetch.
 * fast-check seeds from the clock: a failure prints its seed and a shrunk counterexample.
 *
 * The pieces: fixtures (fuzz-fixtures.ts), the route table by area (fuzz-routes.ts), the arbitraries
 * (fuzz-values.ts, fuzz-bodies.ts, fuzz-requests.ts, fuzz-inputs.ts) and the hand-picked cases (fuzz-cases.ts).
 * One test file, so the fixtures are created once.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUBLIC_OPERATIONS } from "../src/lib/public-routes";
import { bodyText, contentTypes } from "./fuzz-bodies";
import { credentialCases, handPickedCases, jsonRoutes } from "./fuzz-cases";
import { f, printStats, setupFixtures, statsFor } from "./fuzz-fixtures";
import { operationOf, requestArb, tokens } from "./fuzz-inputs";
import { authHeader, methods } from "./fuzz-requests";
import { ROUTES } from "./fuzz-routes";
import { ADMIN, contractViolation, describeExchange, type RawRequest, send, sendChecked } from "./fuzz-transport";
import { headerString, weirdValue } from "./fuzz-values";

const RUNS = 120;
const JSON_LIMIT = 1024 * 1024;

/** Whether an operation takes a bearer token: any but the public ones, checkout's publishable key included. */
const takesBearer = (operation: string) => {
  const pub = (PUBLIC_OPERATIONS as Record<string, { by: string }>)[operation];
  return !pub || pub.by === "publishable_key";
};

beforeAll(setupFixtures);
afterAll(printStats);

describe("fuzz: every route answers bad input with a 4xx JSON error, never a 5xx", () => {
  for (const route of ROUTES) {
    it(route.name, async () => {
      await fc.assert(
        fc.asyncProperty(requestArb(route), async (req) => {
          await sendChecked(req, statsFor(route.name));
        }),
        { numRuns: route.runs ?? RUNS },
      );
    });
  }

  it("any method on any route path, with any body", async () => {
    const path = fc.oneof(
      ...ROUTES.map((r) => r.path()),
      fc.constantFrom(
        "/v1",
        "/v1/",
        "/v1/nope",
        "/v1/products/",
        "/v1//products",
        "/v1/products/prd_x/unknown",
        "/v2/products",
        "/V1/PRODUCTS",
        "/v1/openapi.json",
      ),
    );
    const req = fc
      .record({
        method: methods,
        path,
        body: bodyText(weirdValue),
        contentType: contentTypes,
        authorization: authHeader(tokens()),
      })
      .map(
        ({ method, path, body, contentType, authorization }): RawRequest => ({
          method,
          path,
          headers: { authorization, "content-type": contentType },
          body: method === "GET" || method === "HEAD" ? undefined : body,
        }),
      );
    await fc.assert(
      fc.asyncProperty(req, async (r) => {
        if (r.method !== "HEAD") return void (await sendChecked(r, statsFor("any method")));
        // A HEAD answer has no body by definition: only the status is checked.
        const res = await send(r);
        expect(res.status, describeExchange(r, res)).toBeLessThan(500);
      }),
      { numRuns: 250 },
    );
  });

  it("credentials: missing, malformed, unknown, revoked, under-scoped and non-root keys are refused with 401/403/404", async () => {
    // Public operations take no bearer token (src/lib/public-routes.ts: the log-in, /v1/public/*, the spec),
    // except checkout, whose publishable key is refused like a bad API key.
    const routesWithAuth = ROUTES.filter((r) => (r.method === "GET" || r.body) && takesBearer(operationOf(r)));
    const bad = fc.constantFrom<string | undefined>(
      undefined,
      "",
      "Bearer",
      `Basic ${ADMIN}`,
      `Bearer ${ADMIN}x`,
      "Bearer vek_wrong",
      `Bearer ${"x".repeat(5000)}`,
      `Token ${ADMIN}`,
    );
    const req = fc
      .record({ route: fc.constantFrom(...routesWithAuth), auth: fc.oneof(bad, headerString(80)) })
      .chain(({ route, auth }) =>
        requestArb(route).map((r) => ({ ...r, headers: { ...r.headers, authorization: auth } })),
      );
    await fc.assert(
      fc.asyncProperty(req, async (r) => {
        const res = await sendChecked(r, statsFor("bad credentials"));
        // The body limit and unknown paths answer before authentication; everything else must not get past it.
        if (res.status !== 413 && res.status !== 404) expect(res.status, describeExchange(r, res)).toBe(401);
        if (res.status === 401) expect(res.json.error.code).toBe("unauthorized");
      }),
      { numRuns: 150 },
    );
    const cases = credentialCases();
    for (const [token, method, path, body, status] of cases) {
      const r: RawRequest = {
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "idempotency-key": `cred-${Math.random()}`,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      };
      const res = await sendChecked(r);
      expect(res.status, describeExchange(r, res)).toBe(status);
    }
  });

  it("hand-picked hostile requests", async () => {
    const cases = handPickedCases();
    const violations: string[] = [];
    // Through the runtime's loopback (exports.default.fetch), as a real client's request arrives.
    for (const r of cases) {
      const res = await send(r, "exports");
      statsFor("hand-picked").set(res.status, (statsFor("hand-picked").get(res.status) ?? 0) + 1);
      const problem = contractViolation(res);
      if (problem) violations.push(`${problem}\n${describeExchange(r, res)}`);
    }
    expect(violations, violations.join("\n\n")).toEqual([]);
  });
});

describe("body limits", () => {
  const big = (bytes: number) => JSON.stringify({ name: "x".repeat(bytes), price: 1, currency: "CNY" });

  it("a JSON body over 1 MB answers 413 payload_too_large on every JSON route", async () => {
    for (const [[method, path], via] of jsonRoutes().flatMap((r) =>
      (["exports", "direct"] as const).map((v) => [r, v] as const),
    )) {
      const r: RawRequest = {
        method,
        path,
        headers: {
          authorization: `Bearer ${ADMIN}`,
          "content-type": "application/json",
          "idempotency-key": "too-large-body-1",
        },
        body: big(JSON_LIMIT + 10),
      };
      const res = await send(r, via);
      expect(contractViolation(res), describeExchange(r, res)).toBeNull();
      expect(res.status, describeExchange(r, res)).toBe(413);
      expect(res.json.error.code).toBe("payload_too_large");
    }
  });

  it("the limit also holds without Content-Length (streamed body) and without credentials", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"name":"'));
          for (let i = 0; i < 20; i++) c.enqueue(chunk); // 1.25 MB
          c.enqueue(new TextEncoder().encode('","price":1,"currency":"CNY"}'));
          c.close();
        },
      });
    for (const authorization of [`Bearer ${ADMIN}`, undefined]) {
      const r: RawRequest = {
        method: "POST",
        path: "/v1/products",
        headers: { authorization, "content-type": "application/json" },
        body: stream(),
      };
      const res = await send(r);
      expect(contractViolation(res), describeExchange(r, res)).toBeNull();
      expect(res.status, describeExchange(r, res)).toBe(413);
      expect(res.json.error.code).toBe("payload_too_large");
    }
  });

  it("just under 1 MB is not refused for its size", async () => {
    const r: RawRequest = {
      method: "POST",
      path: "/v1/products",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: big(JSON_LIMIT - 200),
    };
    const res = await sendChecked(r);
    expect(res.status, describeExchange(r, res)).toBe(400); // the name is too long, which is a validation error
  });

  it("a batch upload over 8 MB answers 413 with the error shape", async () => {
    const line = "ABCDEFGHJK0123456789\n";
    const r: RawRequest = {
      method: "POST",
      path: `/v1/products/${f.product}/batches`,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "text/csv" },
      body: line.repeat(Math.ceil((8 * 1024 * 1024 + 10) / line.length)),
    };
    for (const via of ["exports", "direct"] as const) {
      const res = await send(r, via);
      expect(contractViolation(res), describeExchange(r, res)).toBeNull();
      expect(res.status, describeExchange(r, res)).toBe(413);
      expect(res.json.error.code).toBe("payload_too_large");
    }
  });
});

describe("found while fuzzing", () => {
  // POST /v1/products/{id}/batches with neither a Content-Type nor a body: the route's body is
  // optional (so text/csv is not validated as JSON), the JSON validator then supplies {}, and
  // the handler reads `body.import.codes` of {} → TypeError → 500 internal_error.
  it("a batch request with no Content-Type and no body is a 400, not a 500", async () => {
    for (const body of [undefined, ""]) {
      const r: RawRequest = {
        method: "POST",
        path: `/v1/products/${f.product}/batches`,
        headers: { authorization: `Bearer ${ADMIN}` },
        body,
      };
      const res = await send(r, "exports");
      expect(contractViolation(res), describeExchange(r, res)).toBeNull();
      expect(res.status, describeExchange(r, res)).toBe(400);
    }
  });

  it("a CSV upload (Content-Type: text/csv) of valid lines is stored", async () => {
    const body = "code,pin\nFUZZCSV0001\nFUZZCSV0002\n";
    const r: RawRequest = {
      method: "POST",
      path: `/v1/products/${f.product}/batches`,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "text/csv" },
      body,
    };
    const res = await send(r, "exports");
    expect(contractViolation(res), describeExchange(r, res)).toBeNull();
    expect(res.status, describeExchange(r, res)).toBe(201);
    expect(res.json).toMatchObject({ object: "batch", source: "import", total: 2 });
  });
});
