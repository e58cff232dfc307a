// The console's numbers for `npm run bench -- console`:
//   analytics latency (GET /v1/analytics, p50/p95 of sequential calls) over 1,000,000 orders of history
//   loaded as roll-ups before the Worker starts; the console's JavaScript (gzipped, entry and chart chunk);
//   the cockpit's first meaningful paint (navigation start → first KPI value, in Chromium);
//   live latency (an API order's 201 → the cockpit's order count changing, no reload).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { assetSizes } from "../scripts/build-console.mjs";
import { launchChromium } from "../scripts/chromium.mjs";
import { median } from "./report.mjs";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** wrangler.toml's ANALYTICS_TZ_OFFSET_MINUTES: the viewer is in the business timezone, as the merchant's staff are. */
const BUSINESS_OFFSET_MIN = 480;
export const HISTORY = { orders: 1_000_000, days: 90, agents: 4, storesPerAgent: 4, products: 10 };

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/**
 * SQL that writes the history straight into D1: channels (root → agents → stores), products, and for each
 * hour of the last `days` days, each store and product, one roll-up row per kind, whose counts add up to
 * `orders` orders. Generated inside SQLite by recursive CTEs, so the file stays small.
 */
function historySql(now) {
  const h = HISTORY;
  const stores = h.agents * h.storesPerAgent;
  const hours = h.days * 24;
  const perCell = Math.max(1, Math.round(h.orders / (hours * stores))); // orders per store-hour
  const start = Math.floor(now / HOUR) * HOUR - (hours - 1) * HOUR;
  const lines = [];
  for (let a = 0; a < h.agents; a++) {
    lines.push(
      `INSERT INTO channels (id, parent_id, name, type, status, path, depth, created_at) VALUES ('chn_benchagent${a}', 'chn_root', 'Bench agent ${a}', 'agent', 'active', '/chn_root/chn_benchagent${a}/', 1, 0);`,
    );
    for (let s = 0; s < h.storesPerAgent; s++)
      lines.push(
        `INSERT INTO channels (id, parent_id, name, type, status, path, depth, created_at) VALUES ('chn_benchstore${a}x${s}', 'chn_benchagent${a}', 'Bench store ${a}-${s}', 'store', 'active', '/chn_root/chn_benchagent${a}/chn_benchstore${a}x${s}/', 2, 0);`,
      );
  }
  for (let p = 0; p < h.products; p++)
    lines.push(
      `INSERT INTO products (id, name, kind, price, currency, validity, reversal_window_hours, shards, status, created_at, updated_at) VALUES ('prd_benchhist${p}', 'History product ${p}', 'code', 1000, 'CNY', '{"type":"none"}', 24, 1, 'active', 0, 0);`,
    );
  const cells = `WITH RECURSIVE hr(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM hr WHERE n < ${hours - 1}),
    st AS (SELECT id FROM channels WHERE id LIKE 'chn_benchstore%')`;
  // Order-level rows: counts ('' currency) and money (CNY).
  lines.push(`INSERT INTO analytics_hourly (hour, channel_id, product_id, currency, orders, units, redemptions)
    ${cells} SELECT ${start} + n * ${HOUR}, st.id, '', '', ${perCell}, ${perCell * 2}, ${h.products} FROM hr, st;`);
  lines.push(`INSERT INTO analytics_hourly (hour, channel_id, product_id, currency, revenue, refunds, refund_amount)
    ${cells} SELECT ${start} + n * ${HOUR}, st.id, '', 'CNY', ${perCell * 2000}, (n % 7 = 0), (n % 7 = 0) * 1000 FROM hr, st;`);
  // Product rows: each store-hour's orders spread over the products.
  lines.push(`INSERT INTO analytics_hourly (hour, channel_id, product_id, currency, orders, units, redemptions)
    ${cells}, pr AS (SELECT id FROM products WHERE id LIKE 'prd_benchhist%')
    SELECT ${start} + n * ${HOUR}, st.id, pr.id, '', 1, 2, 1 FROM hr, st, pr;`);
  lines.push(`INSERT INTO analytics_hourly (hour, channel_id, product_id, currency, revenue)
    ${cells}, pr AS (SELECT id FROM products WHERE id LIKE 'prd_benchhist%')
    SELECT ${start} + n * ${HOUR}, st.id, pr.id, 'CNY', 2000 FROM hr, st, pr;`);
  // The daily roll-ups the events consumer keeps beside the hourly ones (business days of UTC+8).
  const off = BUSINESS_OFFSET_MIN * 60_000;
  lines.push(`INSERT INTO analytics_daily (day, channel_id, product_id, currency, orders, units, revenue, redemptions, refunds, refund_amount)
    SELECT ((hour + ${off}) / 86400000) * 86400000 - ${off}, channel_id, product_id, currency, SUM(orders), SUM(units), SUM(revenue),
      SUM(redemptions), SUM(refunds), SUM(refund_amount) FROM analytics_hourly GROUP BY 1, 2, 3, 4;`);
  return { sql: lines.join("\n"), rows: hours * stores * (2 + 2 * h.products), orders: hours * stores * perCell };
}

/** For startRuntime's beforeStart: loads the history into the fresh D1. */
export function loadHistory(log) {
  return async ({ app, persist, wrangler, env }) => {
    const t0 = Date.now();
    const { sql, rows, orders } = historySql(Date.now());
    const file = join(app, "bench-history.sql");
    writeFileSync(file, sql);
    execFileSync(wrangler, ["d1", "execute", "DB", "--local", "--persist-to", persist, "--file", file, "--yes"], {
      cwd: app,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    log(
      `bench: console history: ${rows.toLocaleString()} roll-up rows for ${orders.toLocaleString()} orders in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  };
}

async function timeCalls(base, token, query, n, path = "/v1/analytics") {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}${path}?${query}`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`analytics ${query}: ${res.status}`);
    ms.push(performance.now() - t0);
  }
  return { p50: median(ms), p95: percentile(ms, 0.95) };
}

export async function consoleBench({ base, adminToken, log, calls = 30 }) {
  // The console's periods for a viewer in the business timezone: local midnights, as src/console/period.ts cuts them.
  const off = BUSINESS_OFFSET_MIN * 60_000;
  const today = Math.floor((Date.now() + off) / DAY) * DAY - off;
  const iso = (ms) => new Date(ms).toISOString();
  const period = (days, interval) =>
    `from=${iso(today - (days - 1) * DAY)}&to=${iso(today + DAY)}&interval=${interval}&tz_offset_minutes=${BUSINESS_OFFSET_MIN}`;
  const periods = {
    today: period(1, "hour"),
    "7 days": period(7, "day"),
    "30 days": period(30, "day"),
    "90 days": period(90, "day"),
  };
  // Same-run baseline: an authenticated call that reads one D1 row (the root channel), to show the HTTP share.
  await timeCalls(base, adminToken, "", 3, "/v1/channels/chn_root");
  const baseline = await timeCalls(base, adminToken, "", calls, "/v1/channels/chn_root");
  log(`bench: baseline GET /v1/channels/chn_root: p50 ${baseline.p50.toFixed(1)} ms`);
  const analytics = [];
  for (const [scope, extra] of [
    ["merchant", ""],
    ["agent", "&channel_id=chn_benchagent0"],
  ])
    for (const [period, q] of Object.entries(periods)) {
      await timeCalls(base, adminToken, q + extra, 3); // warm
      const r = await timeCalls(base, adminToken, q + extra, calls);
      analytics.push({ scope, period, ...r });
      log(`bench: analytics ${scope} ${period}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms`);
    }
  return { baseline, analytics, assets: assetSizes(), ...(await cockpitTimings({ base, adminToken, log })) };
}

/** First meaningful paint and live latency of the cockpit in Chromium, as a fresh owner. */
async function cockpitTimings({ base, adminToken, log, loads = 5 }) {
  const api = (method, path, body) =>
    fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: body && JSON.stringify(body),
    }).then((r) => r.json());
  const user = { email: `bench.${Date.now()}@example.com`, password: "bench-console-password" };
  await api("POST", "/v1/users", { ...user, role: "owner" });
  const product = await api("POST", "/v1/products", { name: "Bench live", price: 100, currency: "CNY" });
  await api("POST", `/v1/products/${product.id}/batches`, { generate: { count: 50 } });
  const browser = await launchChromium();
  try {
    const page = await (
      await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 800 } })
    ).newPage();
    await page.goto(`${base}/console/`);
    await page.locator('input[type="email"]').fill(user.email);
    await page.locator('input[type="password"]').fill(user.password);
    await page.locator('button[type="submit"]').click();
    await page.locator("nav.side").waitFor();
    const paints = [];
    for (let i = 0; i < loads; i++) {
      await page.goto(`${base}/console/#/cockpit`);
      await page.reload();
      await page.locator("[data-kpi]").first().waitFor();
      paints.push(await page.evaluate(() => performance.now()));
    }
    await page.locator(".live.on").waitFor();
    const live = [];
    for (let i = 0; i < loads; i++) {
      const kpi = page.locator('[data-kpi="Orders"]');
      const before = await kpi.textContent();
      const order = await api("POST", "/v1/orders", { items: [{ product_id: product.id, quantity: 1 }] });
      if (!order.id) throw new Error(`bench order failed: ${JSON.stringify(order)}`);
      const t0 = Date.now();
      await page.waitForFunction((b) => document.querySelector('[data-kpi="Orders"]')?.textContent !== b, before, {
        timeout: 30_000,
      });
      live.push(Date.now() - t0);
    }
    const fmp = median(paints);
    log(
      `bench: cockpit first meaningful paint p50 ${fmp.toFixed(0)} ms; live update p50 ${median(live)} ms (max ${Math.max(...live)})`,
    );
    return { cockpit: { first_paint_ms: paints, live_ms: live } };
  } finally {
    await browser.close();
  }
}

export function printConsole(out, r) {
  out("");
  out(
    `Console (history: ${HISTORY.orders.toLocaleString()} orders over ${HISTORY.days} days, ${HISTORY.agents * HISTORY.storesPerAgent} stores, ${HISTORY.products} products)`,
  );
  out("| GET /v1/analytics | scope | p50 | p95 | p50 vs baseline |");
  out("| --- | --- | ---: | ---: | ---: |");
  out(
    `| baseline: GET /v1/channels/chn_root | merchant | ${r.baseline.p50.toFixed(1)} ms | ${r.baseline.p95.toFixed(1)} ms | 1.00× |`,
  );
  for (const a of r.analytics)
    out(
      `| ${a.period} | ${a.scope} | ${a.p50.toFixed(1)} ms | ${a.p95.toFixed(1)} ms | ${(a.p50 / r.baseline.p50).toFixed(2)}× |`,
    );
  out("");
  for (const f of r.assets) out(`  asset ${f.file.padEnd(22)} ${(f.gzip / 1024).toFixed(1)} KB gzipped`);
  out(
    `  cockpit first meaningful paint: p50 ${median(r.cockpit.first_paint_ms).toFixed(0)} ms (${r.cockpit.first_paint_ms.map((x) => x.toFixed(0)).join(", ")})`,
  );
  out(`  live update after an API order: p50 ${median(r.cockpit.live_ms)} ms (${r.cockpit.live_ms.join(", ")})`);
}
