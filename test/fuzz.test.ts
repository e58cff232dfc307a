/**
 * Fuzzing every /v1 route through the real Worker. The contract under test (DESIGN §3):
 * bad input never yields a 5xx, and every error is JSON `{"error": {"code": snake_case, "message"}}`.
 * Real products, codes, orders, redemptions and keys exist first, so mutated-but-close
 * inputs reach the deep checks (stock, PINs, windows, idempotency), not only zod.
 *
 * The properties call the Worker's fetch handler directly (see fuzz-helpers.ts for why);
 * the hand-picked cases and the body-limit tests also go through exports.default.fetch.
 * fast-check seeds from the clock: a failure prints its seed and a shrunk counterexample.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN,
  authHeader,
  bodyText,
  contentTypes,
  contractViolation,
  describeExchange,
  headerString,
  idempotencyKey,
  idSegment,
  methods,
  mutatedBody,
  nastyString,
  oddHeaders,
  type Path,
  queryString,
  type RawRequest,
  send,
  sendChecked,
  weirdValue,
} from "./fuzz-helpers";

const RUNS = 120;
const FUZZ_PASSWORD = "fuzz password 0123";
const JSON_LIMIT = 1024 * 1024;

interface Fixtures {
  product: string;
  card: string;
  link: string;
  topup: string;
  draft: string;
  archived: string;
  ended: string;
  limited: string;
  patchTargets: string[];
  batches: string[];
  orders: string[];
  issued: string[];
  cardCodes: { code: string; pin: string }[];
  redeemed: string[];
  voidable: string[];
  redemptions: string[];
  keyIds: string[];
  readKey: string;
  childKey: string;
  revokedKey: string;
  /** A publishable key (pk_…) of the root, for the checkout routes. */
  pk: string;
  channels: string[];
  /** A channel below the root, its child, and a channel outside its subtree. */
  child: string;
  grandchild: string;
  sibling: string;
  /** Console users (usr_ ids). */
  users: string[];
  /** Webhook subscriptions (root and child) and a delivery of each. */
  webhooks: string[];
  deliveries: string[];
}

const f = {} as Fixtures;
const stats = new Map<string, Map<number, number>>();
const statsFor = (name: string) => stats.get(name) ?? stats.set(name, new Map()).get(name)!;

async function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await send({
    method,
    path,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`fixture ${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

let seq = 0;
const fixtureKey = () => `fixture-${Date.now()}-${++seq}`;

async function product(overrides: Record<string, unknown>, codes = 0) {
  const p = await admin("POST", "/v1/products", {
    name: "Fuzz product",
    kind: "code",
    price: 1500,
    currency: "CNY",
    ...overrides,
  });
  if (codes > 0)
    f.batches.push((await admin("POST", `/v1/products/${p.id}/batches`, { generate: { count: codes } })).id);
  return p.id as string;
}

async function buy(productId: string, quantity: number) {
  const o = await admin(
    "POST",
    "/v1/orders",
    { items: [{ product_id: productId, quantity }] },
    { "idempotency-key": fixtureKey() },
  );
  f.orders.push(o.id);
  return o.items[0].codes as { code: string; pin?: string }[];
}

beforeAll(async () => {
  await send({ method: "GET", path: "/healthz", headers: {} }); // warm the runtime
  f.batches = [];
  f.orders = [];
  f.product = await product({ validity: { type: "relative", days: 30 }, reversal_window_hours: 24 }, 120);
  f.card = await product({ kind: "card", name: "Fuzz card" }, 30);
  f.link = await product({ kind: "link", claim_url_template: "https://shop.example/claim?c={code}" }, 10);
  f.topup = await product({ kind: "topup" });
  f.draft = await product({ status: "draft" }, 3);
  f.archived = await product({}, 3);
  await admin("PATCH", `/v1/products/${f.archived}`, { status: "archived" });
  f.ended = await product(
    { validity: { type: "absolute", starts_at: "2020-01-01T00:00:00Z", ends_at: "2021-01-01T00:00:00Z" } },
    3,
  );
  f.limited = await product(
    { limits: { per_order_max: 2, per_customer_max: 3, per_customer_window_days: 7 }, shards: 3 },
    20,
  );
  f.patchTargets = [
    await product({}),
    await product({ kind: "link", claim_url_template: "https://x.example/{code}" }),
    await product({ validity: { type: "relative", days: 1 } }),
  ];

  f.issued = (await buy(f.product, 20)).map((c) => c.code);
  f.cardCodes = (await buy(f.card, 6)).map((c) => ({ code: c.code, pin: c.pin! }));
  f.voidable = (await buy(f.product, 10)).map((c) => c.code);
  f.redeemed = [];
  f.redemptions = [];
  for (const code of (await buy(f.product, 6)).map((c) => c.code)) {
    f.redeemed.push(code);
    f.redemptions.push((await admin("POST", "/v1/redemptions", { code, redeemer: "fixture" })).id);
  }
  await buy(f.link, 2);
  await buy(f.limited, 2);

  // A small tree with price lists, quotas and money, so channel routes reach their deep checks.
  f.child = (await admin("POST", "/v1/channels", { name: "Fuzz child", type: "partner" })).id;
  f.grandchild = (
    await admin("POST", "/v1/channels", { name: "Fuzz grandchild", type: "store", parent_id: f.child })
  ).id;
  f.sibling = (await admin("POST", "/v1/channels", { name: "Fuzz sibling", type: "agent" })).id;
  f.channels = ["chn_root", f.child, f.grandchild, f.sibling];
  for (const p of [f.product, f.card, f.limited]) {
    await admin("PUT", `/v1/channels/${f.child}/products/${p}`, {
      enabled: true,
      discount_bps: 500,
      allow_below: true,
    });
    await admin("PUT", `/v1/channels/${f.grandchild}/products/${p}`, { enabled: true });
    await admin("POST", `/v1/products/${p}/allocations`, { channel_id: f.child, quantity: 5 });
  }
  await admin("POST", `/v1/channels/${f.child}/balance`, { amount: 1_000_000, currency: "CNY" });
  f.readKey = (
    await admin("POST", "/v1/channels/chn_root/keys", { name: "read only", scopes: ["products:read"] })
  ).secret;
  f.childKey = (await admin("POST", `/v1/channels/${f.child}/keys`, { name: "child" })).secret;
  const revoked = await admin("POST", "/v1/channels/chn_root/keys", { name: "revoked" });
  await admin("DELETE", `/v1/channels/chn_root/keys/${revoked.id}`);
  f.revokedKey = revoked.secret;
  f.pk = (
    await admin("POST", "/v1/channels/chn_root/keys", {
      type: "publishable",
      allowed_origins: ["https://shop.example"],
    })
  ).secret;
  f.keyIds = [revoked.id];
  for (let i = 0; i < 4; i++)
    f.keyIds.push(
      (await admin("POST", `/v1/channels/${i % 2 ? f.child : "chn_root"}/keys`, { name: `disposable ${i}` })).id,
    );
  f.users = [];
  for (const [role, extra] of [
    ["admin", {}],
    ["finance", {}],
    ["channel_manager", { channel_id: f.child }],
  ] as const) {
    f.users.push(
      (await admin("POST", "/v1/users", { email: `fuzz-${role}@example.com`, password: FUZZ_PASSWORD, role, ...extra }))
        .id,
    );
  }
  f.webhooks = [];
  f.deliveries = [];
  for (const channel_id of ["chn_root", f.child]) {
    const hook = await admin("POST", "/v1/webhooks", {
      url: `${webhookReceiver}/hooks/fuzz`,
      events: ["reconciliation.mismatch"],
      channel_id,
    });
    f.webhooks.push(hook.id);
    f.deliveries.push((await admin("POST", `/v1/webhooks/${hook.id}/ping`)).id);
  }
});

afterAll(() => {
  // Which statuses each route answered: shows how deep the fuzzing reached.
  const lines = [...stats].map(
    ([route, m]) =>
      `${route.padEnd(44)} ${[...m]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(" ")}`,
  );
  console.log(`fuzz status distribution\n${lines.join("\n")}`);
});

// ------------------------------------------------------------------ arbitraries over the fixtures

const tokens = () => [
  f.readKey,
  f.childKey,
  f.revokedKey,
  "vek_not_a_real_key_0000000000000000000000",
  f.pk,
  "pk_not_a_real_key_000000000000000",
];
const ids = {
  prd: () => idSegment("prd", [f.product, f.card, f.link, f.topup, f.draft, f.archived, f.ended, f.limited]),
  patch: () => idSegment("prd", [...f.patchTargets, f.archived, f.topup]),
  bat: () => idSegment("bat", f.batches),
  ord: () => idSegment("ord", f.orders),
  rdm: () => idSegment("rdm", f.redemptions),
  chn: () => idSegment("chn", f.channels),
  key: () => idSegment("key", f.keyIds),
  usr: () => idSegment("usr", f.users),
  whk: () => idSegment("whk", f.webhooks),
  dlv: () => idSegment("dlv", f.deliveries),
};
const webhookReceiver = (env as unknown as { WEBHOOK_TEST_RECEIVER: string }).WEBHOOK_TEST_RECEIVER;
const webhookBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { url: `${webhookReceiver}/hooks/fuzz`, events: ["reconciliation.mismatch"] },
    { url: "https://10.0.0.1/x", events: ["order.*"], description: "d" },
    { url: "http://169.254.169.254/latest", events: ["*"], channel_id: f.child },
    { url: `${webhookReceiver}/hooks/fuzz`, events: ["stock.low"], channel_id: f.sibling },
  );
const webhookPaths: Path[] = [["url"], ["events"], ["events", 0], ["description"], ["channel_id"], ["status"]];
const webhookValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "https://[::ffff:a9fe:a9fe]/",
      "https://0xa9fea9fe/",
      "https://u:p@example.com/",
      "order.*",
      "*",
      "nope.*",
      "active",
      "disabled",
      "deleted",
      ["*"],
      [],
      "x".repeat(2100),
    ),
  },
);

/** A code as people type it: real ones in odd forms, near-misses, random and hostile strings. */
const codeLike = () => {
  const real = fc.constantFrom(...f.issued, ...f.redeemed, ...f.voidable, ...f.cardCodes.map((c) => c.code));
  return fc.oneof(
    { weight: 4, arbitrary: real },
    { weight: 2, arbitrary: real.map((c) => c.toLowerCase().replace(/-/g, " ")) },
    { weight: 1, arbitrary: real.map((c) => c.replace(/-/g, "").replace(/0/g, "O").replace(/1/g, "l")) },
    { weight: 1, arbitrary: real.map((c) => `${c.slice(0, -1)}${c.endsWith("Z") ? "Y" : "Z"}`) },
    { weight: 1, arbitrary: real.map((c) => `  ${c}\u00a0\t`) },
    {
      weight: 2,
      arbitrary: fc.stringMatching(
        /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/,
      ),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-Z]{4,64}$/) },
    { weight: 2, arbitrary: nastyString },
  );
};
const pinLike = () =>
  fc.oneof(
    fc.constantFrom(...f.cardCodes.map((c) => c.pin)),
    fc.stringMatching(/^[0-9]{8}$/),
    fc.constantFrom("0000", " ", "x".repeat(64), "x".repeat(65)),
    nastyString,
  );

interface RouteSpec {
  name: string;
  method: string;
  path: () => fc.Arbitrary<string>;
  query?: string[];
  body?: () => fc.Arbitrary<string>;
  /** Content types other than the JSON-heavy default. */
  contentType?: () => fc.Arbitrary<string | undefined>;
  idempotency?: boolean;
  runs?: number;
}

const productBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { name: "Fuzz", kind: "code", price: 100, currency: "CNY" },
    {
      name: "Fuzz full",
      kind: "card",
      description: "d",
      face_value: 100,
      price: 90,
      currency: "USD",
      validity: { type: "relative", days: 30 },
      limits: { per_order_max: 5, per_customer_max: 10, per_customer_window_days: 7 },
      reversal_window_hours: 1,
      shards: 2,
      status: "active",
      metadata: { a: "b" },
    },
    {
      name: "Fuzz link",
      kind: "link",
      price: 1,
      currency: "EUR",
      claim_url_template: "https://shop.example/c?x={code}",
      validity: { type: "absolute", starts_at: "2020-01-01T00:00:00Z", ends_at: "2099-01-01T00:00:00+08:00" },
    },
  );
const productPaths: Path[] = [
  ["name"],
  ["kind"],
  ["description"],
  ["face_value"],
  ["price"],
  ["currency"],
  ["validity"],
  ["validity", "type"],
  ["validity", "days"],
  ["validity", "starts_at"],
  ["validity", "ends_at"],
  ["limits"],
  ["limits", "per_order_max"],
  ["limits", "per_customer_max"],
  ["limits", "per_customer_window_days"],
  ["reversal_window_hours"],
  ["claim_url_template"],
  ["shards"],
  ["status"],
  ["metadata"],
  ["metadata", "__proto__"],
  ["metadata", "constructor"],
  ["metadata", "k"],
];
const productValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "code",
      "card",
      "link",
      "topup",
      "draft",
      "archived",
      "paused",
      "absolute",
      "relative",
      "none",
      "CNY",
      "cny",
      "XXXX",
      "2020-02-30T00:00:00Z",
      "2027-01-01T00:00:00+25:00",
      "0000-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999999999Z",
      "https://a.example/{code}",
      "javascript:{code}",
      "http://[::1]/{code}",
    ),
  },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 45 }), fc.string({ maxLength: 10 }), { maxKeys: 25 }) },
);

const patchBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { name: "Renamed" },
    { price: 200 },
    { description: null },
    { limits: { per_order_max: 3 } },
    { validity: { type: "none" } },
    { status: "paused" },
    { status: "active" },
    { metadata: null },
    { claim_url_template: "https://x.example/{code}" },
    { reversal_window_hours: 0, face_value: null },
  );

const batchBases = () =>
  fc.oneof(
    fc.constantFrom<Record<string, unknown>>(
      { generate: { count: 2 } },
      {
        generate: {
          count: 1,
          length: 20,
          charset: "alphanumeric",
          prefix: "VIP",
          group_size: 5,
          separator: " ",
          pin_length: 6,
        },
      },
      { generate: { count: 1, length: 13, charset: "digits", group_size: 0, separator: "" } },
      { generate: { count: 1, length: 6 } },
    ),
    fc
      .array(
        fc.record(
          {
            code: fc.oneof(fc.stringMatching(/^FZ[0-9A-Z]{4,18}$/), nastyString),
            pin: fc.option(fc.oneof(fc.stringMatching(/^[0-9]{4,10}$/), nastyString)),
          },
          { requiredKeys: ["code"] },
        ),
        { minLength: 1, maxLength: 6 },
      )
      .map((codes) => ({ import: { codes } })),
  );
const batchPaths: Path[] = [
  ["generate"],
  ["generate", "count"],
  ["generate", "length"],
  ["generate", "charset"],
  ["generate", "prefix"],
  ["generate", "group_size"],
  ["generate", "separator"],
  ["generate", "pin_length"],
  ["import"],
  ["import", "codes"],
  ["import", "codes", 0],
  ["import", "codes", 0, "code"],
  ["import", "codes", 0, "pin"],
  ["import", "codes", 1],
];
const batchValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "crockford32",
      "digits",
      "alphanumeric",
      "-",
      " ",
      "",
      "ABCDEFGHIJKLM",
      "O0IL",
      6,
      64,
      65,
      16,
      4,
    ),
  },
);

const csvCell = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[0-9A-Z]{4,20}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '"QUOTED123"',
      '""',
      '"',
      "code",
      "pin",
      "",
      " ",
      "ABCD-EFGH-JKMN-PQRS",
      "0000-0000-0000-0000",
      "x".repeat(300),
      "=cmd|' /C calc'!A0",
    ),
  },
  { weight: 2, arbitrary: nastyString.map((s) => s.replace(/[\r\n,]/g, "")) },
);
const csvText = fc
  .record({
    bom: fc.boolean(),
    header: fc.constantFrom("", "code", "code,pin", '"code","pin"', "CODE , PIN", "Code;Pin"),
    lines: fc.array(
      fc.oneof(
        csvCell,
        fc.tuple(csvCell, csvCell).map(([a, b]) => `${a},${b}`),
        fc.array(csvCell, { maxLength: 4 }).map((a) => a.join(",")),
      ),
      { maxLength: 15 },
    ),
    eol: fc.constantFrom("\n", "\r\n", "\r"),
    trailing: fc.nat(3),
  })
  .map(
    ({ bom, header, lines, eol, trailing }) =>
      (bom ? "\uFEFF" : "") + [...(header ? [header] : []), ...lines].join(eol) + eol.repeat(trailing),
  );

const orderBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { items: [{ product_id: f.product, quantity: 1 }] },
    { items: [{ product_id: f.limited, quantity: 2 }], customer_ref: "cust-1" },
    {
      items: [
        { product_id: f.product, quantity: 1 },
        { product_id: f.card, quantity: 1 },
      ],
      customer_ref: "cust-2",
      external_ref: "ext-1",
    },
    { items: [{ product_id: f.draft, quantity: 1 }] },
    { items: [{ product_id: f.ended, quantity: 1 }] },
    { items: [{ product_id: f.topup, quantity: 1 }] },
    { items: [{ product_id: f.archived, quantity: 1 }] },
    { items: [{ product_id: f.link, quantity: 1 }] },
    { items: [{ product_id: f.card, quantity: 1000 }] },
    { items: [{ product_id: f.topup, quantity: 1, account: "13800138000" }] },
    { items: [{ product_id: f.product, quantity: 1, account: "13800138000" }] },
  );
const orderPaths: Path[] = [
  ["items"],
  ["items", 0],
  ["items", 0, "product_id"],
  ["items", 0, "quantity"],
  ["items", 0, "account"],
  ["items", 1],
  ["items", 1, "quantity"],
  ["customer_ref"],
  ["external_ref"],
];
const orderValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  { weight: 1, arbitrary: fc.constantFrom("prd_abc", "prd_", 1000, 1001, 0, 20, 21) },
);

const codeBodies = (withRedeemer: boolean) => () => {
  const card = fc.constantFrom(...f.cardCodes).map((c) => ({ code: c.code, pin: c.pin }));
  const plain = fc.record(
    {
      code: codeLike(),
      pin: fc.option(pinLike(), { nil: undefined }),
      ...(withRedeemer ? { redeemer: fc.option(nastyString, { nil: undefined }) } : {}),
    },
    { requiredKeys: ["code"] },
  );
  return mutatedBody(fc.oneof(plain, card) as fc.Arbitrary<Record<string, unknown>>, [["code"], ["pin"], ["redeemer"]]);
};

const keyBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    {},
    { name: "partner" },
    { scopes: ["orders:write", "orders:read"] },
    { name: "exp", expires_at: "2099-01-01T00:00:00Z" },
    { expires_at: "2001-01-01T00:00:00Z" },
  );
const keyValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ["keys:write"],
      ["admin"],
      [],
      ["orders:write", "orders:write"],
      "2099-01-01T00:00:00+14:00",
      "2099-01-01",
    ),
  },
);

const channelTypes = ["own_store", "marketplace", "partner", "agent", "store", "enterprise", "root", "Agent", ""];
const channelCreateBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { name: "Fuzz sub", type: "agent" },
    { name: "Fuzz store", type: "store", parent_id: f.grandchild },
    { name: "Fuzz partner", type: "partner", parent_id: f.child },
    { name: "Fuzz root child", type: "marketplace", parent_id: "chn_root" },
  );
const channelPatchBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { name: "Renamed" },
    { status: "active" },
    { status: "suspended" },
    { credit_limit: 0 },
    { credit_limit: 50_000, name: "Both" },
    { status: "active", credit_limit: 1 },
  );
const channelValues = () =>
  fc.oneof(
    { weight: 4, arbitrary: weirdValue },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        ...channelTypes,
        ...f.channels,
        "active",
        "suspended",
        "chn_",
        "chn_UPPER",
        0,
        1_000_000_000_000,
        1_000_000_000_001,
        -1,
      ),
    },
  );
const entryBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { enabled: true },
    { enabled: true, price: 100 },
    { enabled: true, discount_bps: 500, allow_below: true },
    { enabled: false },
    { enabled: true, low_water: 2, refill: 5 },
    { enabled: true, price: 0, low_water: 0, refill: 1 },
    { allow_below: false, enabled: true },
  );
const entryPaths: Path[] = [["enabled"], ["price"], ["discount_bps"], ["allow_below"], ["low_water"], ["refill"]];
const entryValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(true, false, null, 0, 1, 10_000, 10_001, 1_000_000, 1_000_001, 1_000_000_000_000),
  },
);
const allocationBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { channel_id: f.child, quantity: 1 },
    { channel_id: f.child, quantity: -1 },
    { channel_id: f.grandchild, quantity: 1 },
    { channel_id: f.sibling, quantity: 2 },
    { channel_id: "chn_root", quantity: 1 },
    { channel_id: f.child, quantity: 1_000_000 },
  );
const allocationValues = () =>
  fc.oneof(
    { weight: 4, arbitrary: weirdValue },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...f.channels, "chn_missing", 0, -1_000_000, 1_000_000, 1_000_001, -1_000_001),
    },
  );
const topUpBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { amount: 100, currency: "CNY" },
    { amount: 1, currency: "CNY", note: "fuzz" },
    { amount: 5, currency: "USD" },
    { amount: 1_000_000_000_000, currency: "CNY" },
  );
const topUpValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  { weight: 1, arbitrary: fc.constantFrom("CNY", "cny", "USD", "XX", 0, 1, 1_000_000_000_001, "x".repeat(501)) },
);
const channelIdPath =
  (suffix = "") =>
  () =>
    ids.chn().map((id) => `/v1/channels/${id}${suffix}`);
// Ledger (docs/ledger.md): settlement rules, statements, payouts.
const settlementBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { bps: 800 },
    { fixed_per_unit: 5, cap: 100 },
    {},
    { bps: 300, overrides: [{ product_id: f.product, bps: 100, cap: 10 }] },
    { overrides: [{ product_id: f.card, fixed_per_unit: 3 }] },
  );
const settlementValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      0,
      10_000,
      10_001,
      -1,
      1.5,
      1_000_000_000_001,
      "prd_x",
      [],
      [{}],
      [{ product_id: "prd_x" }],
    ),
  },
);
const payoutBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { channel_id: f.child },
    { channel_id: f.grandchild, currency: "CNY" },
    { channel_id: "chn_root" },
  );

const roles = ["owner", "admin", "operator", "finance", "auditor", "channel_manager", "root", "Admin", ""];
const loginBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { email: "fuzz-finance@example.com", password: FUZZ_PASSWORD },
    { email: "FUZZ-ADMIN@example.com", password: "wrong" },
    { email: "nobody@example.com", password: FUZZ_PASSWORD },
  );
const userBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { email: "fuzz-new@example.com", password: FUZZ_PASSWORD, role: "operator" },
    { email: "fuzz-cm@example.com", password: FUZZ_PASSWORD, role: "channel_manager", channel_id: f.grandchild },
    { email: "fuzz-owner@example.com", password: FUZZ_PASSWORD, role: "owner" },
    { email: "fuzz-admin@example.com", password: FUZZ_PASSWORD, role: "auditor" },
  );
const userPatchBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { role: "auditor" },
    { status: "active" },
    { status: "disabled" },
    { password: "another fuzz password" },
    { role: "channel_manager", channel_id: f.child },
    { role: "finance", channel_id: null },
  );
const userValues = () =>
  fc.oneof(
    { weight: 4, arbitrary: weirdValue },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...roles, ...f.channels, "active", "disabled", "a@b.c", "x".repeat(300), null),
    },
  );

const ROUTES: RouteSpec[] = [
  {
    name: "POST /v1/products",
    method: "POST",
    path: () => fc.constant("/v1/products"),
    body: () => bodyText(mutatedBody(productBases(), productPaths, productValues)),
  },
  {
    name: "GET /v1/products",
    method: "GET",
    path: () => fc.constant("/v1/products"),
    query: ["limit", "cursor", "status", "kind", "q"],
  },
  { name: "GET /v1/products/{id}", method: "GET", path: () => ids.prd().map((id) => `/v1/products/${id}`) },
  {
    name: "PATCH /v1/products/{id}",
    method: "PATCH",
    path: () => ids.patch().map((id) => `/v1/products/${id}`),
    body: () => bodyText(mutatedBody(patchBases(), productPaths, productValues)),
  },
  { name: "GET /v1/products/{id}/stock", method: "GET", path: () => ids.prd().map((id) => `/v1/products/${id}/stock`) },
  {
    name: "POST /v1/products/{id}/batches (json)",
    method: "POST",
    path: () => ids.prd().map((id) => `/v1/products/${id}/batches`),
    body: () => bodyText(mutatedBody(batchBases(), batchPaths, batchValues)),
  },
  {
    name: "POST /v1/products/{id}/batches (csv)",
    method: "POST",
    path: () => ids.prd().map((id) => `/v1/products/${id}/batches`),
    body: () => csvText,
    contentType: () =>
      fc.constantFrom(
        "text/csv",
        "text/csv; charset=utf-8",
        "TEXT/CSV",
        "text/csv;header=present",
        undefined,
        "text/plain",
        "application/csv",
      ),
  },
  { name: "GET /v1/batches/{id}", method: "GET", path: () => ids.bat().map((id) => `/v1/batches/${id}`) },
  {
    name: "POST /v1/orders",
    method: "POST",
    path: () => fc.constant("/v1/orders"),
    body: () => bodyText(mutatedBody(orderBases(), orderPaths, orderValues)),
    idempotency: true,
    runs: 200,
  },
  {
    name: "GET /v1/orders",
    method: "GET",
    path: () => fc.constant("/v1/orders"),
    query: ["limit", "cursor", "status", "customer_ref", "external_ref"],
  },
  { name: "GET /v1/orders/{id}", method: "GET", path: () => ids.ord().map((id) => `/v1/orders/${id}`) },
  {
    name: "POST /v1/codes/verify",
    method: "POST",
    path: () => fc.constant("/v1/codes/verify"),
    body: () => bodyText(codeBodies(true)()),
  },
  {
    name: "POST /v1/redemptions",
    method: "POST",
    path: () => fc.constant("/v1/redemptions"),
    body: () => bodyText(codeBodies(true)()),
    runs: 200,
  },
  {
    name: "POST /v1/redemptions/{id}/reverse",
    method: "POST",
    path: () => ids.rdm().map((id) => `/v1/redemptions/${id}/reverse`),
    body: () => bodyText(weirdValue),
  },
  {
    name: "POST /v1/codes/void",
    method: "POST",
    path: () => fc.constant("/v1/codes/void"),
    body: () =>
      bodyText(
        mutatedBody(
          fc.record({
            code: fc.oneof(fc.constantFrom(...f.voidable), codeLike()),
            reason: fc.oneof(fc.constant("leaked"), nastyString),
          }),
          [["code"], ["reason"]],
        ),
      ),
  },
  {
    name: "POST /v1/channels/{id}/keys",
    method: "POST",
    path: () => ids.chn().map((id) => `/v1/channels/${id}/keys`),
    body: () => bodyText(mutatedBody(keyBases(), [["name"], ["scopes"], ["scopes", 0], ["expires_at"]], keyValues)),
  },
  { name: "GET /v1/channels/{id}/keys", method: "GET", path: () => ids.chn().map((id) => `/v1/channels/${id}/keys`) },
  {
    name: "DELETE /v1/channels/{id}/keys/{key_id}",
    method: "DELETE",
    path: () => fc.tuple(ids.chn(), ids.key()).map(([c, k]) => `/v1/channels/${c}/keys/${k}`),
    body: () => bodyText(weirdValue),
  },
  {
    name: "POST /v1/channels",
    method: "POST",
    path: () => fc.constant("/v1/channels"),
    body: () => bodyText(mutatedBody(channelCreateBases(), [["name"], ["type"], ["parent_id"]], channelValues())),
  },
  {
    name: "GET /v1/channels",
    method: "GET",
    path: () => fc.constant("/v1/channels"),
    query: ["limit", "cursor", "parent_id", "type", "status"],
  },
  { name: "GET /v1/channels/{id}", method: "GET", path: channelIdPath() },
  {
    name: "PATCH /v1/channels/{id}",
    method: "PATCH",
    path: channelIdPath(),
    body: () => bodyText(mutatedBody(channelPatchBases(), [["name"], ["status"], ["credit_limit"]], channelValues())),
  },
  {
    name: "PUT /v1/channels/{id}/products/{product_id}",
    method: "PUT",
    path: () => fc.tuple(ids.chn(), ids.prd()).map(([c, p]) => `/v1/channels/${c}/products/${p}`),
    body: () => bodyText(mutatedBody(entryBases(), entryPaths, entryValues)),
  },
  {
    name: "POST /v1/products/{id}/allocations",
    method: "POST",
    path: () => ids.prd().map((id) => `/v1/products/${id}/allocations`),
    body: () => bodyText(mutatedBody(allocationBases(), [["channel_id"], ["quantity"]], allocationValues())),
    runs: 200,
  },
  {
    name: "POST /v1/channels/{id}/balance",
    method: "POST",
    path: channelIdPath("/balance"),
    body: () => bodyText(mutatedBody(topUpBases(), [["amount"], ["currency"], ["note"]], topUpValues)),
    runs: 200,
  },
  { name: "GET /v1/channels/{id}/balance", method: "GET", path: channelIdPath("/balance"), query: ["limit", "cursor"] },
  { name: "GET /v1/channels/{id}/summary", method: "GET", path: channelIdPath("/summary"), query: ["from", "to"] },
  {
    name: "GET /v1/audit",
    method: "GET",
    path: () => fc.constant("/v1/audit"),
    query: ["limit", "cursor", "actor_key_id", "action", "resource_id", "from", "to"],
  },
  {
    name: "POST /v1/sessions",
    method: "POST",
    path: () => fc.constant("/v1/sessions"),
    body: () => bodyText(mutatedBody(loginBases(), [["email"], ["password"]])),
  },
  { name: "GET /v1/sessions/current", method: "GET", path: () => fc.constant("/v1/sessions/current") },
  {
    name: "DELETE /v1/sessions/current",
    method: "DELETE",
    path: () => fc.constant("/v1/sessions/current"),
    body: () => bodyText(weirdValue),
  },
  {
    name: "POST /v1/users",
    method: "POST",
    path: () => fc.constant("/v1/users"),
    body: () => bodyText(mutatedBody(userBases(), [["email"], ["password"], ["role"], ["channel_id"]], userValues())),
  },
  { name: "GET /v1/users", method: "GET", path: () => fc.constant("/v1/users"), query: ["limit", "cursor"] },
  { name: "GET /v1/users/{id}", method: "GET", path: () => ids.usr().map((id) => `/v1/users/${id}`) },
  {
    name: "PATCH /v1/users/{id}",
    method: "PATCH",
    path: () => ids.usr().map((id) => `/v1/users/${id}`),
    body: () =>
      bodyText(mutatedBody(userPatchBases(), [["role"], ["status"], ["password"], ["channel_id"]], userValues())),
  },
  {
    name: "DELETE /v1/users/{id}/sessions",
    method: "DELETE",
    path: () => ids.usr().map((id) => `/v1/users/${id}/sessions`),
    body: () => bodyText(weirdValue),
  },
  {
    name: "PUT /v1/channels/{id}/settlement",
    method: "PUT",
    path: channelIdPath("/settlement"),
    body: () =>
      bodyText(
        mutatedBody(
          settlementBases(),
          [
            ["bps"],
            ["fixed_per_unit"],
            ["cap"],
            ["overrides"],
            ["overrides", 0],
            ["overrides", 0, "bps"],
            ["overrides", 0, "product_id"],
          ],
          settlementValues,
        ),
      ),
  },
  { name: "GET /v1/channels/{id}/settlement", method: "GET", path: channelIdPath("/settlement") },
  {
    name: "GET /v1/channels/{id}/statements",
    method: "GET",
    path: channelIdPath("/statements"),
    query: ["from", "to", "format"],
  },
  {
    name: "POST /v1/payouts",
    method: "POST",
    path: () => fc.constant("/v1/payouts"),
    body: () =>
      bodyText(
        mutatedBody(
          payoutBases(),
          [["channel_id"], ["currency"]],
          fc.oneof(weirdValue, fc.constantFrom(...f.channels, "CNY", "usd")),
        ),
      ),
  },
  {
    name: "GET /v1/payouts",
    method: "GET",
    path: () => fc.constant("/v1/payouts"),
    query: ["limit", "cursor", "channel_id", "status"],
  },
  {
    name: "GET /v1/reconciliation",
    method: "GET",
    path: () => fc.constant("/v1/reconciliation"),
    query: ["date"],
    runs: 40,
  },
  {
    name: "GET /v1/reconciliation/runs",
    method: "GET",
    path: () => fc.constant("/v1/reconciliation/runs"),
    query: ["limit", "cursor", "status"],
  },
  { name: "GET /v1/payouts/{id}", method: "GET", path: () => idSegment("pyo", []).map((id) => `/v1/payouts/${id}`) },
  {
    name: "POST /v1/payouts/{id}/paid",
    method: "POST",
    path: () => idSegment("pyo", []).map((id) => `/v1/payouts/${id}/paid`),
    body: () => bodyText(weirdValue),
  },
  // Top-up provider callback (docs/topup.md): unsigned or mis-signed notices are 401, never 5xx.
  {
    name: "POST /v1/public/topup/notify",
    method: "POST",
    path: () => fc.constant("/v1/public/topup/notify"),
    body: () =>
      bodyText(
        mutatedBody(
          fc.constantFrom<Record<string, unknown>>(
            { out_trade_no: "ord_01abcdefgh-0", status: "succeeded", provider_ref: "up_1" },
            { out_trade_no: "ord_x-99", status: "failed", error: "account_invalid" },
          ),
          [["out_trade_no"], ["status"], ["provider_ref"], ["error"]],
        ),
      ),
  },
  // Checkout and gateway notices (docs/payments.md): bad input is 4xx, unsigned notices 401, never 5xx.
  {
    name: "POST /v1/checkout",
    method: "POST",
    path: () => fc.constant("/v1/checkout"),
    idempotency: true,
    runs: 40,
    body: () =>
      bodyText(
        mutatedBody(
          fc.constantFrom<Record<string, unknown>>(
            { items: [{ product_id: f.product, quantity: 1 }], gateway: "sandbox" },
            {
              items: [{ product_id: f.card, quantity: 2 }],
              gateway: "alipay",
              customer_ref: "c1",
              return_url: "https://shop.example/done",
            },
          ),
          [
            ["items"],
            ["items", 0],
            ["items", 0, "product_id"],
            ["items", 0, "quantity"],
            ["gateway"],
            ["customer_ref"],
            ["return_url"],
          ],
        ),
      ),
  },
  {
    name: "GET /v1/checkout/{order_id}",
    method: "GET",
    path: () => ids.ord().map((id) => `/v1/checkout/${id}`),
    query: ["client_secret"],
  },
  ...(["sandbox", "stripe", "alipay", "wechat", "paypal"] as const).map(
    (g): RouteSpec => ({
      name: `POST /v1/public/payments/${g}/notify`,
      method: "POST",
      path: () => fc.constant(`/v1/public/payments/${g}/notify`),
      runs: 40,
      body: () =>
        bodyText(
          mutatedBody(
            fc.constantFrom<Record<string, unknown>>(
              { id: "ntc_1", type: "payment.succeeded", data: { order_id: "ord_x", amount: 1, currency: "CNY" } },
              { id: "evt_1", type: "payment_intent.succeeded", data: { object: { metadata: { order_id: "ord_x" } } } },
              { resource: { ciphertext: "AAAA", nonce: "n" } },
            ),
            [["id"], ["type"], ["data"], ["resource"]],
          ),
        ),
      contentType: () =>
        fc.constantFrom("application/json", "application/x-www-form-urlencoded", undefined, "text/plain"),
    }),
  ),
  {
    name: "POST /v1/public/sandbox/pay/{order_id}",
    method: "POST",
    path: () => ids.ord().map((id) => `/v1/public/sandbox/pay/${id}`),
    body: () => bodyText(weirdValue),
    runs: 40,
  },
  {
    name: "POST /v1/orders/{id}/refund",
    method: "POST",
    path: () => ids.ord().map((id) => `/v1/orders/${id}/refund`),
    idempotency: true,
    runs: 60,
    body: () => bodyText(mutatedBody(fc.constantFrom<Record<string, unknown>>({ reason: "fuzz" }), [["reason"]])),
  },
  {
    name: "POST /v1/webhooks",
    method: "POST",
    path: () => fc.constant("/v1/webhooks"),
    body: () => bodyText(mutatedBody(webhookBases(), webhookPaths, webhookValues)),
  },
  {
    name: "GET /v1/webhooks",
    method: "GET",
    path: () => fc.constant("/v1/webhooks"),
    query: ["limit", "cursor", "channel_id", "status"],
  },
  { name: "GET /v1/webhooks/{id}", method: "GET", path: () => ids.whk().map((id) => `/v1/webhooks/${id}`) },
  {
    name: "PATCH /v1/webhooks/{id}",
    method: "PATCH",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}`),
    body: () => bodyText(mutatedBody(webhookBases(), webhookPaths, webhookValues)),
  },
  {
    name: "POST /v1/webhooks/{id}/rotate-secret",
    method: "POST",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}/rotate-secret`),
    body: () => bodyText(weirdValue),
    runs: 30,
  },
  {
    name: "POST /v1/webhooks/{id}/ping",
    method: "POST",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}/ping`),
    body: () => bodyText(weirdValue),
    runs: 30,
  },
  {
    name: "GET /v1/webhooks/{id}/deliveries",
    method: "GET",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}/deliveries`),
    query: ["limit", "cursor", "status", "event_type"],
  },
  {
    name: "GET /v1/webhooks/{id}/deliveries/{delivery_id}",
    method: "GET",
    path: () => fc.tuple(ids.whk(), ids.dlv()).map(([w, d]) => `/v1/webhooks/${w}/deliveries/${d}`),
  },
  {
    name: "POST /v1/webhooks/{id}/deliveries/{delivery_id}/replay",
    method: "POST",
    path: () => fc.tuple(ids.whk(), ids.dlv()).map(([w, d]) => `/v1/webhooks/${w}/deliveries/${d}/replay`),
    body: () => bodyText(weirdValue),
    runs: 30,
  },
  {
    name: "DELETE /v1/webhooks/{id}",
    method: "DELETE",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}`),
    body: () => bodyText(weirdValue),
    runs: 20,
  },
];

function requestArb(route: RouteSpec): fc.Arbitrary<RawRequest> {
  return fc
    .record({
      path: route.path(),
      query: route.query
        ? queryString(route.query)
        : fc.oneof(
            { weight: 5, arbitrary: fc.constant("") },
            { weight: 1, arbitrary: queryString(["limit", "id", "expand"]) },
          ),
      body: route.body ? fc.option(route.body(), { nil: undefined, freq: 12 }) : fc.constant(undefined),
      contentType: route.contentType ? route.contentType() : contentTypes,
      authorization: authHeader(tokens()),
      idem: route.idempotency ? idempotencyKey : fc.option(idempotencyKey, { nil: undefined, freq: 2 }),
      odd: fc.option(oddHeaders, { nil: undefined, freq: 2 }),
    })
    .map(({ path, query, body, contentType, authorization, idem, odd }) => ({
      method: route.method,
      path: path + query,
      headers: {
        ...(odd ?? {}),
        authorization,
        "content-type": body === undefined && route.method === "GET" ? undefined : contentType,
        "idempotency-key": idem,
      },
      body: route.method === "GET" ? undefined : body,
    }));
}

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
    // POST /v1/sessions (log-in) is public, like /v1/public/*.
    // Everything under /v1/public/ takes no credentials (signed notices, the consumer widget): docs/payments.md, docs/topup.md.
    const routesWithAuth = ROUTES.filter(
      (r) => (r.method === "GET" || r.body) && r.name !== "POST /v1/sessions" && !r.name.startsWith("POST /v1/public/"),
    );
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
    // A revoked key, a key without the scope, and a child channel's key on root-only routes.
    const cases: [string, string, string, unknown, number][] = [
      [f.revokedKey, "GET", "/v1/products", undefined, 401],
      [f.readKey, "POST", "/v1/products", { name: "x", price: 1, currency: "CNY" }, 403],
      [f.readKey, "POST", "/v1/orders", { items: [{ product_id: f.product, quantity: 1 }] }, 403],
      [f.readKey, "POST", "/v1/redemptions", { code: f.issued[0] }, 403],
      [f.childKey, "POST", "/v1/products", { name: "x", price: 1, currency: "CNY" }, 403],
      [f.childKey, "POST", `/v1/products/${f.product}/batches`, { generate: { count: 1 } }, 403],
      [f.childKey, "POST", "/v1/codes/void", { code: f.issued[0], reason: "x" }, 403],
      // The parent channel lies outside the child key's subtree: it answers like an unknown id.
      [f.childKey, "GET", "/v1/channels/chn_root/keys", undefined, 404],
      [f.childKey, "GET", `/v1/orders/${f.orders[0]}`, undefined, 404],
      [f.childKey, "POST", `/v1/redemptions/${f.redemptions[0]}/reverse`, undefined, 404],
      [f.childKey, "GET", "/v1/channels/chn_root", undefined, 404],
      [f.childKey, "GET", `/v1/channels/${f.sibling}/summary`, undefined, 404],
      [f.childKey, "POST", `/v1/channels/${f.child}/balance`, { amount: 1, currency: "CNY" }, 403],
      [f.childKey, "POST", "/v1/channels", { name: "x", type: "store", parent_id: f.sibling }, 404],
      [f.readKey, "POST", "/v1/channels", { name: "x", type: "store" }, 403],
      [f.readKey, "GET", `/v1/channels/${f.child}/balance`, undefined, 403],
    ];
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
    const auth = `Bearer ${ADMIN}`;
    const cases: RawRequest[] = [
      { method: "GET", path: "/v1/products/%zz", headers: { authorization: auth } },
      { method: "GET", path: "/v1/products/%", headers: { authorization: auth } },
      { method: "GET", path: "/v1/products/%C0%AF/stock", headers: { authorization: auth } },
      { method: "GET", path: "/v1/products?limit=%zz&cursor=%", headers: { authorization: auth } },
      {
        method: "GET",
        path: "/v1/products?limit=1&limit=2&status=active&status=draft",
        headers: { authorization: auth },
      },
      { method: "GET", path: "/v1/orders?limit=1e999&customer_ref=%00", headers: { authorization: auth } },
      { method: "GET", path: `/v1/products?q=${encodeURIComponent("%_\\'\"")}`, headers: { authorization: auth } },
      {
        method: "POST",
        path: "/v1/products",
        headers: { authorization: auth, "content-type": "application/json" },
        body: `{"__proto__":{"root":true},"name":"p","price":1,"currency":"CNY"}`,
      },
      {
        method: "POST",
        path: "/v1/products",
        headers: { authorization: auth, "content-type": "application/json" },
        body: `{"name":"p","price":1e999,"currency":"CNY"}`,
      },
      {
        method: "POST",
        path: "/v1/products",
        headers: { authorization: auth, "content-type": "application/json" },
        body: `{"name":"p","price":1,"currency":"CNY","metadata":{"__proto__":"x","constructor":"y"}}`,
      },
      {
        method: "POST",
        path: "/v1/products",
        headers: { authorization: auth, "content-type": "application/json" },
        body: "[".repeat(50_000) + "]".repeat(50_000),
      },
      {
        method: "POST",
        path: "/v1/products",
        headers: { authorization: auth, "content-type": "application/json" },
        body: `{"name":${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)},"price":1,"currency":"CNY"}`,
      },
      {
        method: "POST",
        path: "/v1/products",
        headers: { authorization: auth },
        body: `{"name":"p","price":1,"currency":"CNY"}`,
      },
      { method: "POST", path: "/v1/products", headers: { authorization: auth, "content-type": "application/json" } },
      {
        method: "POST",
        path: "/v1/products",
        headers: { authorization: auth, "content-type": "multipart/form-data; boundary=x" },
        body: '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\np\r\n--x--',
      },
      {
        method: "POST",
        path: "/v1/orders",
        headers: {
          authorization: auth,
          "content-type": "application/json",
          "idempotency-key": "\u00ff\u00fe\u00fd\u00fc\u00fb\u00fa\u00f9\u00f8",
        },
        body: JSON.stringify({ items: [{ product_id: f.product, quantity: 1 }] }),
      },
      {
        method: "POST",
        path: "/v1/orders",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({ items: [{ product_id: f.product, quantity: 1 }] }),
      },
      {
        method: "POST",
        path: "/v1/orders",
        headers: { authorization: auth, "content-type": "application/json", "idempotency-key": "dup-items-12345" },
        body: JSON.stringify({
          items: [
            { product_id: f.product, quantity: 1 },
            { product_id: f.product, quantity: 1 },
          ],
        }),
      },
      {
        method: "POST",
        path: "/v1/codes/verify",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({ code: f.cardCodes[1].code }),
      },
      {
        method: "POST",
        path: "/v1/codes/verify",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({ code: "\uD800\uDC00".repeat(100) }),
      },
      {
        method: "POST",
        path: `/v1/products/${f.product}/batches`,
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({ generate: { count: 1, length: 6, charset: "digits" } }),
      },
      {
        method: "POST",
        path: `/v1/products/${f.topup}/batches`,
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({ generate: { count: 1 } }),
      },
      {
        method: "POST",
        path: `/v1/products/${f.product}/batches`,
        headers: { authorization: auth, "content-type": "text/csv" },
        body: "\uFEFFcode\r\n\r\n\r\n",
      },
      {
        method: "PATCH",
        path: `/v1/products/${f.archived}`,
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({ status: "active" }),
      },
      { method: "DELETE", path: `/v1/channels/chn_root/keys/${f.keyIds[0]}`, headers: { authorization: auth } },
    ];
    // Wrong PINs until the card locks, then the right one: 404s, then 423 card_locked.
    for (let i = 0; i < 6; i++)
      cases.push({
        method: "POST",
        path: "/v1/codes/verify",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({ code: f.cardCodes[2].code, pin: `9999999${i}` }),
      });
    cases.push({
      method: "POST",
      path: "/v1/redemptions",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify(f.cardCodes[2]),
    });
    // Every body route with no body, an empty body, and a body of the wrong type, with and without a Content-Type.
    const bodyRoutes: [string, string][] = [
      ["POST", "/v1/products"],
      ["PATCH", `/v1/products/${f.patchTargets[0]}`],
      ["POST", `/v1/products/${f.product}/batches`],
      ["POST", "/v1/orders"],
      ["POST", "/v1/codes/verify"],
      ["POST", "/v1/redemptions"],
      ["POST", `/v1/redemptions/${f.redemptions[1]}/reverse`],
      ["POST", "/v1/codes/void"],
      ["POST", "/v1/channels/chn_root/keys"],
      ["DELETE", `/v1/channels/chn_root/keys/${f.keyIds[1]}`],
      ["POST", "/v1/channels"],
      ["PATCH", `/v1/channels/${f.grandchild}`],
      ["PUT", `/v1/channels/${f.grandchild}/products/${f.product}`],
      ["POST", `/v1/products/${f.product}/allocations`],
      ["POST", `/v1/channels/${f.grandchild}/balance`],
    ];
    const shapes: [string | undefined, string | undefined][] = [
      [undefined, undefined],
      [undefined, ""],
      [undefined, "{}"],
      ["application/json", undefined],
      ["application/json", ""],
      ["text/csv", ""],
      ["text/plain", "{}"],
      ["application/json", "null"],
    ];
    for (const [method, path] of bodyRoutes) {
      for (const [ct, body] of shapes)
        cases.push({
          method,
          path,
          headers: { authorization: auth, "content-type": ct, "idempotency-key": "empty-body-case-1" },
          body,
        });
    }
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
  const jsonRoutes = (): [string, string][] => [
    ["POST", "/v1/products"],
    ["PATCH", `/v1/products/${f.patchTargets[0]}`],
    ["POST", "/v1/orders"],
    ["POST", "/v1/codes/verify"],
    ["POST", "/v1/redemptions"],
    ["POST", "/v1/codes/void"],
    ["POST", `/v1/redemptions/${f.redemptions[0]}/reverse`],
    ["POST", "/v1/channels/chn_root/keys"],
    ["POST", "/v1/channels"],
    ["PATCH", `/v1/channels/${f.child}`],
    ["PUT", `/v1/channels/${f.child}/products/${f.product}`],
    ["POST", `/v1/products/${f.product}/allocations`],
    ["POST", `/v1/channels/${f.child}/balance`],
  ];

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
