#!/usr/bin/env node
// Seeds a demo merchant through the public API (so it exercises the real paths). Idempotent:
// skipped when the demo products exist. Usage: node scripts/seed.mjs [baseUrl] (token from .dev.vars).
import { readFileSync } from "node:fs";

export async function seed(base, token, log = console.log) {
  const api = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => null);
    if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const existing = await api("GET", "/v1/products?q=Demo%3A&limit=100");
  if (existing.data.length > 0) {
    log(`seed: demo data already present (${existing.data.length} products)`);
    return;
  }
  const products = [
    { name: "Demo: VIP membership 30 days", kind: "code", face_value: 3000, price: 2500, currency: "CNY", validity: { type: "relative", days: 365 }, limits: { per_order_max: 10, per_customer_max: 20, per_customer_window_days: 30 } },
    { name: "Demo: Game card 100 points", kind: "card", face_value: 10000, price: 9500, currency: "CNY", validity: { type: "absolute", ends_at: "2028-12-31T23:59:59Z" } },
    { name: "Demo: Online course access", kind: "link", price: 19900, currency: "CNY", claim_url_template: "https://learn.example.com/claim?code={code}" },
    { name: "Demo: Mobile top-up 50", kind: "topup", face_value: 5000, price: 4980, currency: "CNY" },
  ];
  const created = [];
  for (const p of products) created.push(await api("POST", "/v1/products", p));
  await api("POST", `/v1/products/${created[0].id}/batches`, { generate: { count: 2000 } });
  await api("POST", `/v1/products/${created[1].id}/batches`, { generate: { count: 500, length: 16, charset: "digits", prefix: "GC", pin_length: 8 } });
  await api("POST", `/v1/products/${created[2].id}/batches`, { import: { codes: Array.from({ length: 200 }, (_, i) => ({ code: `COURSE-${String(i).padStart(5, "0")}-DEMO` })) } });
  let orders = 0;
  let redeemed = 0;
  for (let i = 0; i < 60; i++) {
    const product = created[i % 3];
    const o = await api("POST", "/v1/orders", { items: [{ product_id: product.id, quantity: 1 + (i % 3) }], customer_ref: `demo-user-${i % 17}`, external_ref: `demo-${1000 + i}` }, { "idempotency-key": `demo-seed-${i}` });
    orders++;
    for (const c of o.items[0].codes) {
      if ((i + redeemed) % 2 === 0) {
        await api("POST", "/v1/redemptions", { code: c.code, ...(c.pin ? { pin: c.pin } : {}), redeemer: `store-${i % 5}` });
        redeemed++;
      }
    }
  }
  log(`seed: ${created.length} demo products, 2,700 codes, ${orders} orders, ${redeemed} redemptions`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const base = process.argv[2] ?? "http://127.0.0.1:8787";
  const token = readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1];
  await seed(base, token);
}
