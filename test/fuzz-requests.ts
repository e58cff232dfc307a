/** Arbitraries for the rest of a request: methods, id path segments, query strings and headers. */
import fc from "fast-check";
import { ADMIN } from "./fuzz-transport";
import { headerString } from "./fuzz-values";

export const methods = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS");

/** Path segment for an id: real ones, well-shaped unknown ones, and hostile ones. */
export function idSegment(prefix: string, real: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: real.length ? fc.constantFrom(...real) : fc.constant(`${prefix}_missing`) },
    { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9]{1,40}$/).map((s) => `${prefix}_${s}`) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        `${prefix}_`,
        `${prefix}_${"a".repeat(41)}`,
        `${prefix.toUpperCase()}_ABC`,
        `${prefix}_ABC`,
        "prd_abc",
        "ord_abc",
        "chn_root",
        "key_abc",
        "rdm_abc",
        "bat_abc",
        "%",
        "%zz",
        "%00",
        "%C0%AF",
        "%F0%9F%92%A9",
        "%E2%80%AE",
        "%ff%fe",
        "..",
        ".",
        "%2e%2e",
        "%2F",
        "a%2Fb",
        "null",
        "undefined",
        "__proto__",
        "constructor",
        "0",
        "-1",
        "1e999",
        "NaN",
        "x".repeat(3000),
        `${prefix}_abc%00`,
        `${prefix}_abc;x`,
        `${prefix}_abc%20`,
        `${prefix}_abc%0A`,
        "%25",
        "~",
        "*",
      ),
    },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }).map(encodeURIComponent) },
  );
}

const queryValue = fc.oneof(
  fc.constantFrom(
    "NaN",
    "Infinity",
    "-1",
    "0",
    "1",
    "20",
    "100",
    "101",
    "1e999",
    "1.5",
    "0x10",
    "%205",
    "5%20",
    "",
    "%",
    "%zz",
    "%00",
    "%E2%82%AC",
    "%C0%AF",
    "prd_",
    "prd_abc",
    "ord_zzz",
    "active",
    "draft",
    "archived",
    "code",
    "topup",
    "fulfilled",
    "pending",
    "failed",
    "x".repeat(300),
    "+",
    "a+b",
    "%2B",
    "chn_root",
    "chn_",
    "mov_abc",
    "mov_",
    "suspended",
    "agent",
    "store",
    "root",
    "2020-01-01T00:00:00Z",
    "2099-12-31T23:59:59%2B08:00",
    "2099-12-31T23:59:59+08:00",
    "2020-02-30T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "275760-09-13T00:00:00Z",
    "1970-01-01T00:00:00.000Z",
  ),
  fc.string({ unit: "binary", maxLength: 20 }).map(encodeURIComponent),
  fc.integer().map(String),
);

/** A query string built from known keys, odd keys, repeats and broken encodings. */
export function queryString(keys: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...keys) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("__proto__", "constructor", "limit[]", "limit[0]", "a[b]", "", "%", "Limit"),
    },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }).map(encodeURIComponent) },
  );
  const pair = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(key, queryValue).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: key },
  );
  return fc.array(pair, { maxLength: 5 }).map((pairs) => (pairs.length ? `?${pairs.join("&")}` : ""));
}

/** The Authorization header: mostly the owner token, sometimes other keys, broken or missing. */
export function authHeader(tokens: string[]): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant(`Bearer ${ADMIN}`) },
    { weight: 3, arbitrary: fc.constantFrom(...tokens).map((t) => `Bearer ${t}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        undefined,
        "",
        "Bearer",
        "Bearer ",
        `Basic ${ADMIN}`,
        `bearer ${ADMIN}`,
        `BEARER ${ADMIN}`,
        `Bearer  ${ADMIN}`,
        `Bearer ${ADMIN} extra`,
        `Bearer ${ADMIN.toUpperCase()}`,
        `Bearer ${ADMIN.slice(0, -1)}`,
        `Bearer ${ADMIN}x`,
        `Bearer vek_${"A".repeat(300)}`,
        "Bearer vek_",
        "Bearer vek_wrong",
        `Token ${ADMIN}`,
        ADMIN,
        "Bearer null",
        "Bearer undefined",
        `Bearer\t${ADMIN}`,
      ),
    },
    { weight: 1, arbitrary: headerString(60) },
    { weight: 1, arbitrary: headerString(60).map((s) => `Bearer ${s}`) },
  );
}

export const idempotencyKey = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/) },
  { weight: 2, arbitrary: fc.constant("fuzz-shared-idempotency-key") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      "",
      "short",
      "1234567",
      "k".repeat(128),
      "k".repeat(129),
      "k".repeat(5000),
      "key with spaces",
      "tab\tinside-key",
      "__proto__",
      "constructor",
      "%00%00%00%00",
      "NaN-NaN-NaN",
    ),
  },
  { weight: 1, arbitrary: headerString(60) },
);

/** Other headers that should change nothing but might: request ids, forwarded IPs, Accept. */
export const oddHeaders: fc.Arbitrary<Record<string, string | undefined>> = fc.record(
  {
    "x-request-id": fc.oneof(fc.constantFrom("req-12345678", "../../..", "a".repeat(100)), headerString(70)),
    "cf-connecting-ip": fc.oneof(fc.constantFrom("1.2.3.4", "::1", "not-an-ip", "999.999.999.999"), headerString(50)),
    accept: fc.constantFrom("application/json", "text/html", "*/*", "application/xml", ""),
    "accept-encoding": fc.constantFrom("gzip", "br", "identity", "*", "zstd;q=0"),
    "x-http-method-override": fc.constantFrom("DELETE", "PATCH", "GET"),
    origin: fc.constantFrom("https://evil.example", "null"),
  },
  { requiredKeys: [] },
);
