/**
 * The fuzz suite's fixtures: real products, codes, orders, redemptions, channels, keys, users and
 * webhooks, created once through the Worker so mutated-but-close inputs reach the deep checks.
 * Each *.test.ts file gets fresh storage: a test file calls `setupFixtures` in its beforeAll.
 */
import { env } from "cloudflare:workers";
import { ADMIN, send } from "./fuzz-transport";

export const FUZZ_PASSWORD = "fuzz password 0123";
export const webhookReceiver = (env as unknown as { WEBHOOK_TEST_RECEIVER: string }).WEBHOOK_TEST_RECEIVER;

export interface Fixtures {
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
  campaigns: string[];
  claims: string[];
}

export const f = {} as Fixtures;
export const stats = new Map<string, Map<number, number>>();
export const statsFor = (name: string) => stats.get(name) ?? stats.set(name, new Map()).get(name)!;

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

/** Creates every fixture; `f` holds their ids, secrets and codes afterwards. */
export async function setupFixtures(): Promise<void> {
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
  const window = { starts_at: new Date(Date.now() - 60_000).toISOString(), ends_at: "2100-01-01T00:00:00Z" };
  const campaign = await admin("POST", "/v1/campaigns", {
    name: "Fuzz trial",
    product_id: f.product,
    max_claims: 5,
    ...window,
  });
  f.campaigns = [campaign.id];
  const claimed = await admin(
    "POST",
    `/v1/campaigns/${campaign.id}/claims`,
    { customer_ref: "fuzz-customer" },
    { "idempotency-key": "fuzz-claim-1" },
  );
  f.claims = [claimed.id];
}

/** Which statuses each route answered: shows how deep the fuzzing reached. */
export function printStats(): void {
  const lines = [...stats].map(
    ([route, m]) =>
      `${route.padEnd(44)} ${[...m]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(" ")}`,
  );
  console.log(`fuzz status distribution\n${lines.join("\n")}`);
}
