#!/usr/bin/env node
import { readFileSync } from "node:fs";
// Seeds a demo merchant through the public API, so it exercises the real paths: four products
// (2,700 codes), a channel tree with price lists, quotas, replenishment rules, prepaid balances and
// a credit line, a few hundred orders placed with each channel's own key, and redemptions.
// Idempotent: the products are made when missing, the channel tree when missing; a later run only
// mints fresh demo keys (keys are shown once). Usage: node scripts/seed.mjs [baseUrl] (token from .dev.vars).
import { printMoney, seedPayments, seedSettlement } from "./seed-money.mjs";

const ROOT = "chn_root";
const IN_FLIGHT = 8;

// ── The catalog ────────────────────────────────────────────────────────────────────────────────
const PRODUCTS = {
  vip: {
    body: {
      name: "Demo: VIP membership 30 days",
      kind: "code",
      face_value: 3000,
      price: 2500,
      currency: "CNY",
      validity: { type: "relative", days: 365 },
      limits: { per_order_max: 10, per_customer_max: 20, per_customer_window_days: 30 },
    },
    batch: (n) => ({ generate: { count: n } }),
    codes: 2000,
  },
  card: {
    body: {
      name: "Demo: Game card 100 points",
      kind: "card",
      face_value: 10000,
      price: 9500,
      currency: "CNY",
      validity: { type: "absolute", ends_at: "2028-12-31T23:59:59Z" },
    },
    batch: (n) => ({ generate: { count: n, length: 16, charset: "digits", prefix: "GC", pin_length: 8 } }),
    codes: 500,
  },
  course: {
    body: {
      name: "Demo: Online course access",
      kind: "link",
      price: 19900,
      currency: "CNY",
      claim_url_template: "https://learn.example.com/claim?code={code}",
    },
    batch: (n, first) =>
      first
        ? {
            import: {
              codes: Array.from({ length: n }, (_, i) => ({ code: `COURSE-${String(i).padStart(5, "0")}-DEMO` })),
            },
          }
        : { generate: { count: n } },
    codes: 200,
  },
  topup: {
    body: { name: "Demo: Mobile top-up 50", kind: "topup", face_value: 5000, price: 4980, currency: "CNY" },
    codes: 0, // direct recharge: no inventory; fulfilled by the (fake) provider
  },
};

// ── The channel tree ───────────────────────────────────────────────────────────────────────────
// prices: the channel's price-list entry, set by its parent (discount_bps off the parent's price, or a
// fixed price; none: the parent's price). quota: moved from the parent. sell: [units, orders] sold by the
// channel itself with its own key; redeem: the share of its codes redeemed. Amounts in CNY (yuan); the API takes 分.
// Planned so every order fits: Hangzhou's VIP and Ningbo's cards cross their low-water mark and refill
// from the province; Shenzhen's VIP crosses with too little left at Guangdong (stock.low); the own web
// shop refills VIP from the merchant's unallocated stock; the bank spends past its prepaid balance on credit.
const STORE_KEY_SCOPES = ["products:read", "orders:read", "orders:write", "redemptions:write", "channels:read"];
const TREE = [
  {
    key: "national",
    name: "Demo: Huaxia Digital (national agent)",
    type: "agent",
    topUp: 50_000,
    prices: { vip: { discount_bps: 2000 }, card: { discount_bps: 2000 }, topup: { discount_bps: 2000 } },
    quota: { vip: 900, card: 240 },
    sell: { vip: [20, 5], card: [6, 3] },
    redeem: 0.3,
    children: [
      {
        key: "zhejiang",
        name: "Demo: Zhejiang provincial agent",
        type: "agent",
        topUp: 20_000,
        prices: { vip: { price: 2150 }, card: { price: 8000 } },
        quota: { vip: 300, card: 80 },
        sell: { vip: [10, 3], card: [2, 2] },
        redeem: 0.4,
        children: [
          {
            key: "hangzhou",
            name: "Demo: Hangzhou West Lake store",
            type: "store",
            topUp: 5_000,
            prices: { vip: { price: 2300, low_water: 30, refill: 40 }, card: { price: 8600 } },
            quota: { vip: 100, card: 25 },
            sell: { vip: [75, 25], card: [6, 5] },
            redeem: 0.6,
          },
          {
            key: "ningbo",
            name: "Demo: Ningbo Tianyi Square store",
            type: "store",
            topUp: 5_000,
            prices: { vip: { price: 2300 }, card: { price: 8600, low_water: 10, refill: 10 } },
            quota: { vip: 80, card: 20 },
            sell: { vip: [40, 18], card: [12, 8] },
            redeem: 0.5,
          },
        ],
      },
      {
        key: "guangdong",
        name: "Demo: Guangdong provincial agent",
        type: "agent",
        topUp: 20_000,
        // allow_below lets Guangdong's stores be priced under Guangdong's own price (the Shenzhen promotion).
        prices: { vip: { price: 2150, allow_below: true }, card: { price: 8000 } },
        quota: { vip: 300, card: 80 },
        sell: { vip: [10, 3], card: [2, 2] },
        redeem: 0.4,
        children: [
          {
            key: "guangzhou",
            name: "Demo: Guangzhou Tianhe store",
            type: "store",
            topUp: 5_000,
            prices: { vip: { price: 2300 }, card: { price: 8600 } },
            quota: { vip: 100, card: 25 },
            sell: { vip: [50, 20], card: [5, 4] },
            redeem: 0.5,
          },
          {
            key: "shenzhen",
            name: "Demo: Shenzhen Nanshan store",
            type: "store",
            topUp: 5_000,
            prices: { vip: { price: 2080, low_water: 20, refill: 150 }, card: { price: 8600 } },
            quota: { vip: 80, card: 20 },
            sell: { vip: [64, 24], card: [4, 3] },
            redeem: 0.5,
          },
        ],
      },
    ],
  },
  {
    key: "web",
    name: "Demo: Own web shop",
    type: "own_store",
    topUp: 30_000,
    prices: { vip: { low_water: 60, refill: 150 }, card: {}, course: {}, topup: {} },
    quota: { vip: 150, card: 60, course: 100 },
    sell: { vip: [110, 35], card: [24, 12], course: [40, 16] },
    redeem: 0.5,
  },
  {
    key: "marketplace",
    name: "Demo: Tmall flagship store",
    type: "marketplace",
    topUp: 20_000,
    credit: 10_000,
    prices: { vip: { discount_bps: 500 }, card: { discount_bps: 500 }, course: { discount_bps: 500 } },
    quota: { vip: 300, card: 60, course: 40 },
    sell: { vip: [100, 35], card: [16, 10], course: [12, 8] },
    redeem: 0.4,
  },
  {
    key: "bank",
    name: "Demo: Bank of Qiantang points mall",
    type: "partner",
    topUp: 1_000,
    credit: 50_000,
    prices: { vip: { price: 2200 }, card: { price: 9000 } },
    quota: { vip: 200, card: 60 },
    sell: { vip: [80, 22], card: [24, 12] },
    redeem: 0.7,
  },
];
/** The merchant's own direct sales (admin token, list price, from unallocated stock). */
const ROOT_SALES = { sell: { vip: [30, 12], card: [12, 6], course: [12, 6] }, redeem: 0.5 };
const DEMO_STORE = "hangzhou";

// ── Helpers ────────────────────────────────────────────────────────────────────────────────────
class HttpError extends Error {
  constructor(method, path, status, json) {
    super(`${method} ${path} → ${status} ${JSON.stringify(json)}`);
    this.status = status;
    this.code = json?.error?.code;
  }
}

function client(base, token) {
  return async (method, path, body, headers = {}) => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json().catch(() => null);
      if (res.status === 429 && attempt < 5) {
        await sleep(1000 * Number(res.headers.get("retry-after") ?? 1));
        continue;
      }
      if (res.status >= 400) throw new HttpError(method, path, res.status, json);
      return json;
    }
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fen = (yuan) => Math.round(yuan * 100);
const money = (f) =>
  (f < 0 ? "-" : "") +
  "¥" +
  (Math.abs(f) / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Runs `fn` over `items` with at most `n` in flight. */
async function inPool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Deterministic pseudo-random numbers, so a seed makes the same plan every time. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `units` split over `orders` orders of 1..max each (max ≤ the product's per-order limit). */
function split(units, orders, max, rand) {
  const qty = Array(orders).fill(1);
  for (let left = units - orders; left > 0; ) {
    const i = Math.floor(rand() * orders);
    if (qty[i] < max) {
      qty[i]++;
      left--;
    }
  }
  return qty;
}

const flatten = (nodes) => nodes.flatMap((n) => [n, ...flatten(n.children ?? [])]);

async function allPages(api, path) {
  const rows = [];
  for (let cursor = null; ; ) {
    const page = await api(
      "GET",
      `${path}${path.includes("?") ? "&" : "?"}limit=100${cursor ? `&cursor=${cursor}` : ""}`,
    );
    rows.push(...page.data);
    if (!page.has_more) return rows;
    cursor = page.next_cursor;
  }
}

// ── The seed ───────────────────────────────────────────────────────────────────────────────────
/**
 * Seeds through the API at `base` with the owner's token. Never throws: a failure is logged and
 * returned as `{ ok: false, error }`, so `npm start` keeps serving (and stops cleanly on Ctrl-C).
 */
export async function seed(base, token, log = console.log) {
  try {
    return { ok: true, ...(await run(base, token, log)) };
  } catch (error) {
    log(`seed: failed: ${error.message}`);
    log("seed: the server keeps running; to seed from scratch, stop it, delete .wrangler/state and start again");
    return { ok: false, error };
  }
}

async function run(base, token, log) {
  const started = Date.now();
  const laps = [];
  let lapped = started;
  const lap = (name) => {
    laps.push(`${name} ${((Date.now() - lapped) / 1000).toFixed(1)}`);
    lapped = Date.now();
  };
  const admin = client(base, token);
  const channels = flatten(TREE);

  // 1. Products and codes.
  const listed = await allPages(admin, "/v1/products?q=Demo%3A");
  const product = {};
  let madeProducts = false;
  for (const [k, spec] of Object.entries(PRODUCTS)) {
    const found = listed.find((p) => p.name === spec.body.name);
    if (found) {
      product[k] = found;
      continue;
    }
    product[k] = await admin("POST", "/v1/products", spec.body);
    if (spec.codes) await admin("POST", `/v1/products/${product[k].id}/batches`, spec.batch(spec.codes, true));
    madeProducts = true;
  }

  // 2. The channel tree, unless it exists already: then only new demo keys.
  const existing = await allPages(admin, "/v1/channels");
  const byName = new Map(existing.map((c) => [c.name, c]));
  if (channels.some((c) => byName.has(c.name))) {
    const ids = Object.fromEntries(channels.map((c) => [c.key, byName.get(c.name)?.id]));
    log(
      `seed: demo data already present (${Object.keys(product).length} products, ${channels.filter((c) => ids[c.key]).length} demo channels); minting fresh demo keys`,
    );
    const keys = await demoKeys(admin, ids);
    printKeys(log, base, channels, ids, keys);
    return { skipped: true, products: product, channels: ids, keys };
  }
  await ensureStock(admin, product, log);
  lap("catalog");

  // 3. Channels level by level, each created by its parent with the parent's own key.
  const id = { root: ROOT };
  const key = { root: token };
  const api = { root: admin };
  for (let level = TREE.map((n) => ({ ...n, parent: "root" })); level.length; ) {
    await inPool(level, IN_FLIGHT, async (c) => {
      const parentApi = api[c.parent];
      id[c.key] = (
        await parentApi("POST", "/v1/channels", {
          name: c.name,
          type: c.type,
          ...(c.parent === "root" ? {} : { parent_id: id[c.parent] }),
        })
      ).id;
      const made = await parentApi("POST", `/v1/channels/${id[c.key]}/keys`, {
        name: "demo seed",
        ...(c.type === "store" ? { scopes: STORE_KEY_SCOPES } : {}),
      });
      key[c.key] = made.secret;
      api[c.key] = client(base, made.secret);
    });
    // 4. Price lists: the parent sets each child's entry (its own must exist first, hence level by level).
    await inPool(
      level.flatMap((c) => Object.entries(c.prices).map(([p, entry]) => [c, p, entry])),
      IN_FLIGHT,
      ([c, p, entry]) =>
        api[c.parent]("PUT", `/v1/channels/${id[c.key]}/products/${product[p].id}`, { enabled: true, ...entry }),
    );
    // 5. Quotas, money and credit from the parent.
    await inPool(
      level.flatMap((c) => Object.entries(c.quota).map(([p, n]) => [c, p, n])),
      IN_FLIGHT,
      ([c, p, n]) =>
        api[c.parent]("POST", `/v1/products/${product[p].id}/allocations`, { channel_id: id[c.key], quantity: n }),
    );
    await inPool(level, IN_FLIGHT, async (c) => {
      await api[c.parent](
        "POST",
        `/v1/channels/${id[c.key]}/balance`,
        { amount: fen(c.topUp), currency: "CNY", note: "opening prepayment" },
        { "idempotency-key": `demo-seed-topup-${c.key}-1` },
      );
      if (c.credit) await api[c.parent]("PATCH", `/v1/channels/${id[c.key]}`, { credit_limit: fen(c.credit) });
    });
    level = level.flatMap((c) => (c.children ?? []).map((k) => ({ ...k, parent: c.key })));
  }

  await seedSettlement(admin, id, product);
  lap("tree");

  // 6. Orders, every channel with its own key (paid from its balance), interleaved across channels.
  const before = (await admin("GET", `/v1/channels/${ROOT}/summary`)).totals;
  const rand = prng(20260426);
  const sellers = [{ key: "root", name: "Merchant", ...ROOT_SALES }, ...channels];
  const orders = [];
  for (const s of sellers) {
    let n = 0;
    for (const [p, [units, count]] of Object.entries(s.sell)) {
      for (const quantity of split(units, count, p === "vip" ? 5 : 3, rand)) {
        n++;
        orders.push({
          seller: s,
          p,
          quantity,
          customer: `${s.key}-customer-${n % 23}`,
          ref: `${s.key.toUpperCase()}-${10_000 + n}`,
          redeem: s.redeem,
        });
      }
    }
  }
  orders.sort(() => rand() - 0.5);
  const placed = await inPool(orders, IN_FLIGHT, async (o) => {
    try {
      const res = await api[o.seller.key](
        "POST",
        "/v1/orders",
        {
          items: [{ product_id: product[o.p].id, quantity: o.quantity }],
          customer_ref: o.customer,
          external_ref: o.ref,
        },
        { "idempotency-key": `demo-seed-order-${o.ref}` },
      );
      return { o, codes: res.items[0].codes };
    } catch (e) {
      if (e instanceof HttpError && e.status < 500) return { o, refused: e.code };
      throw e;
    }
  });
  const refused = placed.filter((r) => r.refused);
  lap("orders");
  if (refused.length)
    log(
      `seed: ${refused.length} orders refused (${[...new Set(refused.map((r) => `${r.o.seller.key}/${r.o.p}: ${r.refused}`))].join(", ")})`,
    );

  // 7. Redemptions of a share of each channel's codes (cards need their PIN): at the counter with the
  // store's own key for codes sold in stores, else by the merchant's service (the game, the member site).
  const toRedeem = placed
    .filter((r) => r.codes)
    .flatMap((r) => r.codes.filter(() => rand() < r.o.redeem).map((c) => ({ seller: r.o.seller, c })));
  await inPool(toRedeem, IN_FLIGHT, ({ seller, c }) => {
    const atCounter = seller.type === "store";
    const redeemer = atCounter
      ? `${seller.key}-counter-${Math.floor(rand() * 3) + 1}`
      : `user-${100_000 + Math.floor(rand() * 900_000)}`;
    return api[atCounter ? seller.key : "root"]("POST", "/v1/redemptions", {
      code: c.code,
      ...(c.pin ? { pin: c.pin } : {}),
      redeemer,
    });
  });

  lap("redemptions");

  // 8. The roll-up reads D1 projections fed by the events queue: wait until they caught up.
  const fulfilled = placed.filter((r) => r.codes).length;
  let root = null;
  for (const until = Date.now() + 30_000; Date.now() < until; await sleep(500)) {
    root = await admin("GET", `/v1/channels/${ROOT}/summary`);
    if (
      root.totals.orders >= before.orders + fulfilled &&
      root.totals.redemptions >= before.redemptions + toRedeem.length
    )
      break;
  }
  lap("roll-up");
  if (root.totals.orders < before.orders + fulfilled || root.totals.redemptions < before.redemptions + toRedeem.length)
    log("seed: projections still catching up; summaries will fill in within seconds");

  const units = orders.reduce((s, o) => s + o.quantity, 0);
  const codes = Object.values(PRODUCTS).reduce((s, p) => s + p.codes, 0);
  log(
    `seed: ${madeProducts ? `${Object.keys(PRODUCTS).length} demo products, ${codes.toLocaleString("en-US")} codes; ` : ""}${channels.length} channels below the merchant; ${fulfilled} orders (${units} units), ${toRedeem.length} redemptions in ${((Date.now() - started) / 1000).toFixed(1)} s (${laps.join(", ")})`,
  );
  await printTree(log, admin, [{ key: "root", name: "Merchant (root)", type: "root", children: TREE }], id);
  const money = await seedPayments(base, admin, id, product, log);
  const keys = { national: key.national, [DEMO_STORE]: key[DEMO_STORE] };
  printKeys(log, base, channels, id, keys);
  printMoney(log, base, id, money);
  return { skipped: false, products: product, channels: id, keys, orders: fulfilled, redemptions: toRedeem.length };
}

/** Makes sure the unallocated stock covers the planned quotas, refills from it and the merchant's own sales. */
async function ensureStock(admin, product, log) {
  for (const [k, spec] of Object.entries(PRODUCTS)) {
    if (!spec.codes) continue;
    let need = ROOT_SALES.sell[k]?.[0] ?? 0;
    for (const c of TREE) need += (c.quota[k] ?? 0) + (c.prices[k]?.refill ?? 0);
    const stock = await admin("GET", `/v1/products/${product[k].id}/stock`);
    if (stock.unallocated < need) {
      const more = need - stock.unallocated + 100;
      await admin("POST", `/v1/products/${product[k].id}/batches`, spec.batch(more, false));
      log(`seed: added ${more} codes to ${spec.body.name} for the channel quotas`);
    }
  }
}

/** New keys for the national agent and the demo store (the seed's own keys were never shown). */
async function demoKeys(admin, ids) {
  const keys = {};
  for (const k of ["national", DEMO_STORE]) {
    if (!ids[k]) continue;
    const body = {
      name: `demo (printed by seed ${new Date().toISOString().slice(0, 10)})`,
      ...(k === DEMO_STORE ? { scopes: STORE_KEY_SCOPES } : {}),
    };
    keys[k] = (await admin("POST", `/v1/channels/${ids[k]}/keys`, body)).secret;
  }
  return keys;
}

async function printTree(log, admin, nodes, id) {
  const rows = [];
  const walk = (list, prefix) =>
    list.forEach((n, i) => {
      const last = i === list.length - 1;
      rows.push({
        n,
        label: prefix === null ? n.name : `${prefix}${last ? "└─ " : "├─ "}${n.name.replace(/^Demo: /, "")}`,
      });
      walk(n.children ?? [], prefix === null ? "  " : `${prefix}${last ? "   " : "│  "}`);
    });
  walk(nodes, null);
  const sums = await inPool(rows, IN_FLIGHT, ({ n }) => admin("GET", `/v1/channels/${id[n.key]}/summary`));
  const width = Math.max(...rows.map((r) => [...r.label].length)) + 2;
  log(
    `  ${"channel (numbers roll up the subtree)".padEnd(width)}${"orders".padStart(7)}${"units".padStart(7)}${"revenue".padStart(14)}${"redeemed".padStart(10)}${"balance".padStart(13)}`,
  );
  rows.forEach(({ n, label }, i) => {
    const s = sums[i];
    const bal = n.key === "root" ? "" : money(s.balance.balance);
    log(
      `  ${label.padEnd(width)}${String(s.totals.orders).padStart(7)}${String(s.totals.units).padStart(7)}${money(s.totals.revenue).padStart(14)}${String(s.totals.redemptions).padStart(10)}${bal.padStart(13)}`,
    );
  });
}

function printKeys(log, base, channels, ids, keys) {
  const store = channels.find((c) => c.key === DEMO_STORE);
  const national = channels.find((c) => c.key === "national");
  log("seed: channel views to try (each key sees only its own subtree; shown once, not stored):");
  if (keys.national) log(`  national agent  ${ids.national}  ${keys.national}`);
  if (keys[DEMO_STORE])
    log(`  store           ${ids[DEMO_STORE]}  ${keys[DEMO_STORE]}  (${store.name.replace(/^Demo: /, "")})`);
  if (keys[DEMO_STORE])
    log(`  curl -H "Authorization: Bearer ${keys[DEMO_STORE]}" ${base}/v1/channels/${ids[DEMO_STORE]}/summary`);
  if (keys.national)
    log(
      `  curl -H "Authorization: Bearer ${keys.national}" ${base}/v1/channels/${ids.national}/summary   # ${national.name.replace(/^Demo: /, "")}`,
    );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const base = process.argv[2] ?? "http://127.0.0.1:8787";
  const token = readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1];
  if (!(await seed(base, token)).ok) process.exitCode = 1;
}
