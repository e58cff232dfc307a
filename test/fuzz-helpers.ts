/**
 * Fuzzing fixtures: raw requests to the real Worker (exact bytes, headers and methods,
 * nothing added behind our back) and fast-check arbitraries for hostile input.
 *
 * Two ways in, both on the real local runtime with real D1, DOs and queues:
 * - "exports": `exports.default.fetch`, the request crosses the runtime's loopback like a
 *   real one (Content-Length computed on the wire). Under vitest-pool-workers every such
 *   call gets slower than the one before (≈ +0.3 ms per prior call in one workerd
 *   instance; cloudflare/workers-sdk#15446), so a thousand fuzz requests would take minutes.
 * - "direct" (the default here): the Worker's own `fetch(request, env, ctx)` handler with
 *   an execution context whose waitUntil work is awaited: same app, same bindings, flat cost.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import worker from "../src/index";

export const ADMIN: string = env.ADMIN_TOKEN;

export interface RawRequest {
  method: string;
  /** Path and query, appended to the origin as typed (not re-encoded beyond what URL parsing does). */
  path: string;
  headers: Record<string, string | undefined>;
  /** Sent as bytes so no Content-Type is added for us; a stream has no Content-Length. */
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
}

export interface RawResponse {
  status: number;
  text: string;
  json: any;
  headers: Headers;
}

const encoder = new TextEncoder();

export type Transport = "direct" | "exports";

export async function send(req: RawRequest, via: Transport = "direct"): Promise<RawResponse> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, v);
  const body = typeof req.body === "string" ? encoder.encode(req.body) : req.body;
  const request = new Request(`http://ve.test${req.path}`, { method: req.method, headers, body });
  let res: Response;
  if (via === "exports") {
    res = await exports.default.fetch(request);
  } else {
    const ctx = createExecutionContext();
    res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
    await waitOnExecutionContext(ctx);
  }
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

export const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** Why a response breaks the contract (never 5xx; errors are {"error": {"code", "message"}}), or null. */
export function contractViolation(res: RawResponse): string | null {
  if (res.status >= 500) return `status ${res.status} (5xx)`;
  if (res.status < 400) return null;
  const ct = res.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(ct)) return `error with content-type ${JSON.stringify(ct)}`;
  const err = res.json?.error;
  if (!res.json || typeof res.json !== "object" || Array.isArray(res.json) || !err || typeof err !== "object")
    return 'error body is not {"error": {...}}';
  if (typeof err.code !== "string" || !SNAKE_CASE.test(err.code))
    return `error.code ${JSON.stringify(err.code)} is not a snake_case string`;
  if (typeof err.message !== "string") return "error.message is not a string";
  return null;
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export function describeExchange(req: RawRequest, res: RawResponse): string {
  const body =
    req.body === undefined
      ? "(none)"
      : typeof req.body === "string"
        ? JSON.stringify(clip(req.body))
        : "(bytes/stream)";
  return [
    `${req.method} ${clip(req.path, 300)}`,
    `headers: ${JSON.stringify(
      Object.fromEntries(
        Object.entries(req.headers)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, k === "authorization" ? clip(v!, 40) : v]),
      ),
    )}`,
    `body: ${body}`,
    `→ ${res.status} ${res.headers.get("content-type") ?? ""} ${clip(res.text)}`,
  ].join("\n");
}

/** Sends and throws a readable error when the contract is broken, so fast-check shrinks on it. */
export async function sendChecked(
  req: RawRequest,
  stats?: Map<number, number>,
  via: Transport = "direct",
): Promise<RawResponse> {
  const res = await send(req, via);
  stats?.set(res.status, (stats.get(res.status) ?? 0) + 1);
  const problem = contractViolation(res);
  if (problem) throw new Error(`contract broken: ${problem}\n${describeExchange(req, res)}`);
  return res;
}

// ---------------------------------------------------------------- arbitraries

/**
 * Characters for a header value: visible ASCII and space. (workerd accepts Latin-1 too but
 * re-encodes it as UTF-8 with a warning per request; one fixed case covers that.)
 */
const headerChar = fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n));
export const headerString = (maxLength = 40) => fc.string({ unit: headerChar, maxLength });

/** Strings people and attackers send: unicode, controls, bidi, huge, number-like. */
export const nastyString = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "  \t\n",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-0",
    "0x10",
    "null",
    "undefined",
    "true",
    "[]",
    "{}",
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "' OR 1=1 --",
    '"; DROP TABLE products; --',
    "%",
    "%00",
    "\u0000",
    "\u0000abc",
    "\uFEFF",
    "\u202Eabc",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "💳🎟️",
    "卡密兑换码",
    "ΐ",
    "ﬁ",
    "\uD800",
    "\uDFFF",
    "<script>alert(1)</script>",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
    "${7*7}",
    "{{7*7}}",
    "../../etc/passwd",
    "a".repeat(201),
    "x".repeat(5000),
    "9".repeat(400),
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);

export const nastyNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    1.5,
    -1.5,
    0.1,
    1e-300,
    1e308,
    -1e308,
    2 ** 31,
    -(2 ** 31),
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53) - 2,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    1_000_000_000_001,
    100_001,
    1001,
    3651,
    721,
    17,
  ),
  fc.integer({ min: -1000, max: 30 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** A value nested `depth` levels deep, in arrays or objects. */
export function nested(depth: number, leaf: unknown = 1, asObject = false): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyNumber },
  { weight: 3, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], [[]], { "": "" }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.boolean()).map(([d, o]) => nested(d, "x", o)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, nastyString, { maxKeys: 4 }) },
);

export const extraKey = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "",
    " ",
    "ID",
    "Name",
    "unknown_field",
    "🔑",
    "a.b",
    "items[0]",
  ),
  fc.string({ maxLength: 10 }),
);

export type Path = (string | number)[];

/** Sets an own property (so "__proto__" is serialised as a key, not a prototype). */
function setOwn(target: any, key: string | number, value: unknown) {
  // An array's "length" cannot be redefined as an arbitrary value; such a mutation is skipped.
  if (Array.isArray(target) && key === "length") return;
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function setPath(root: any, path: Path, value: unknown): any {
  if (path.length === 0) return value;
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    if (node[k] === null || typeof node[k] !== "object") setOwn(node, k, typeof path[i + 1] === "number" ? [] : {});
    node = node[k];
  }
  setOwn(node, path[path.length - 1], value);
  return root;
}

function deletePath(root: any, path: Path) {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    node = node?.[path[i]];
    if (node === null || typeof node !== "object") return;
  }
  if (Array.isArray(node) && typeof path[path.length - 1] === "number") node.splice(path[path.length - 1] as number, 1);
  else delete node[path[path.length - 1]];
}

/**
 * Valid bodies with a few fields replaced by hostile values, a field removed, or an
 * unexpected key added: the mutations stay close enough to valid to reach deep checks.
 */
export function mutatedBody(
  bases: fc.Arbitrary<Record<string, unknown>>,
  paths: Path[],
  values: fc.Arbitrary<unknown> = weirdValue,
): fc.Arbitrary<unknown> {
  const pathArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...paths) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom<Path>([], ...paths), extraKey).map(([p, k]) => [...p.slice(0, -1), k]),
    },
  );
  return fc.oneof(
    { weight: 2, arbitrary: bases },
    {
      weight: 8,
      arbitrary: fc
        .tuple(
          bases,
          fc.array(fc.tuple(pathArb, values), { minLength: 1, maxLength: 3 }),
          fc.option(fc.constantFrom(...paths), { nil: undefined }),
        )
        .map(([base, sets, del]) => {
          let body: any = structuredClone(base);
          if (del) deletePath(body, del);
          for (const [p, v] of sets) body = setPath(body, p, v);
          return body;
        }),
    },
    { weight: 1, arbitrary: weirdValue },
  );
}

const rawNumbers = [
  "1e999",
  "-1e999",
  "1E400",
  "-0",
  "0.0000000000000000000000000001",
  "123456789012345678901234567890",
  "9007199254740993",
  "1.0",
  "01",
  "+1",
  ".5",
  "0x10",
  "NaN",
  "Infinity",
];
const malformed = [
  "",
  " ",
  "{",
  "}",
  "[",
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  "{a:1}",
  "nul",
  "tru",
  '"unterminated',
  '{"a":"\\u12"}',
  '{"a":"\\x41"}',
  "[1,2",
  '{"a":1}}',
  '{"a":1} trailing',
  "\uFEFF{}",
  "\u0000",
  '{"a":\u0001}',
  "null",
  "true",
  "0",
  '"str"',
  "[]",
  "[{}]",
  '{"__proto__":{"root":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  "a=1&b=2",
  "code,pin\nABC,1234",
  '{"a":1,"a":2}',
  "\xff\xfe",
  "\ud800",
];

/** The body text: mostly JSON of the structure, sometimes broken JSON around it. */
export function bodyText(structure: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: structure.map((s) => JSON.stringify(s) ?? "null") },
    {
      weight: 1,
      arbitrary: fc.tuple(structure, fc.nat()).map(([s, n]) => {
        const t = JSON.stringify(s) ?? "";
        return t.slice(0, n % (t.length + 1));
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(structure, fc.constantFrom(...rawNumbers))
        .map(([s, num]) => (JSON.stringify(s) ?? "").replace(/-?\d+(\.\d+)?([eE][+-]?\d+)?/, num)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(structure, fc.constantFrom('{"root":true}', '{"scopes":["keys:write"]}', "null", "1", "[]"))
        .map(([s, v]) => (JSON.stringify(s) ?? "").replace(/^\{/, `{"__proto__":${v},`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(structure, fc.constantFrom("constructor", "__proto__", "prototype"))
        .map(([s, k]) => (JSON.stringify(s) ?? "").replace(/^\{/, `{"${k}":{"prototype":{"polluted":true}},`)),
    },
    { weight: 1, arbitrary: fc.constantFrom(...malformed) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((d) => "[".repeat(d) + "]".repeat(d)) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((d) => `${'{"a":'.repeat(d)}1${"}".repeat(d)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((d) => "[".repeat(d)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  );
}

export const contentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant("application/json") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      undefined,
      "",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/json;charset=latin1",
      "application/vnd.api+json",
      "application/merge-patch+json",
      "text/plain",
      "text/plain;charset=UTF-8",
      "text/csv",
      "text/csv; charset=utf-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=xyz",
      "multipart/form-data",
      "application/xml",
      "*/*",
      "application/json, text/csv",
      "json",
      "application/",
      ";;;",
      'application/json; boundary="',
      "text/html",
    ),
  },
  { weight: 1, arbitrary: headerString(30) },
);

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
