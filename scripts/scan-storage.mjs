#!/usr/bin/env node
// Storage scan: runs a workload against a fresh local runtime (wrangler dev with a temp
// persist dir), stops it, then reads every file it left (SQLite databases, WAL and journal
// files of D1 and every Durable Object) byte by byte, looking for any code, PIN, API key,
// signing secret, console password or the admin token in plaintext. Prints one line; exits 1 on any finding.
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startRuntime } from "../bench/runtime.mjs";

const rt = await startRuntime({ log: () => undefined, keep: true });
const secrets = new Set([rt.adminToken]);
const api = async (method, path, body, extra = {}) => {
  const res = await fetch(rt.base + path, {
    method,
    headers: { authorization: `Bearer ${rt.adminToken}`, "content-type": "application/json", ...extra },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.error)}`);
  return json;
};
let files = 0;
try {
  const codes = await api("POST", "/v1/products", { name: "Scan codes", price: 100, currency: "CNY" });
  const cards = await api("POST", "/v1/products", { name: "Scan cards", kind: "card", price: 100, currency: "CNY" });
  const imported = await api("POST", "/v1/products", { name: "Scan imports", price: 100, currency: "CNY" });
  await api("POST", `/v1/products/${codes.id}/batches`, { generate: { count: 200 } });
  await api("POST", `/v1/products/${cards.id}/batches`, { generate: { count: 20 } });
  const importedCodes = Array.from(
    { length: 10 },
    (_, i) =>
      `SCANSECRET${i}Q${String(Date.now() % 100000).padStart(5, "0")}X` /* 18 chars: never the reserved 16-char shape */,
  );
  await api("POST", `/v1/products/${imported.id}/batches`, {
    import: { codes: importedCodes.map((code) => ({ code })) },
  });
  for (const c of importedCodes) secrets.add(c);
  for (let i = 0; i < 5; i++) {
    const order = await api(
      "POST",
      "/v1/orders",
      {
        items: [
          { product_id: codes.id, quantity: 10 },
          { product_id: cards.id, quantity: 2 },
          { product_id: imported.id, quantity: 1 },
        ],
      },
      { "idempotency-key": `scan-order-${i}-${Date.now()}` },
    );
    for (const item of order.items)
      for (const c of item.codes) {
        secrets.add(c.code);
        secrets.add(c.code.replace(/[- ]/g, ""));
        if (c.pin) secrets.add(c.pin);
      }
    const first = order.items[1].codes[0];
    await api("POST", "/v1/redemptions", { code: order.items[0].codes[0].code });
    await api("POST", "/v1/redemptions", { code: first.code, pin: first.pin });
  }
  const password = `scan-password-${Date.now()}-xyz`;
  await api("POST", "/v1/users", { email: `scan-${Date.now()}@example.com`, password, role: "operator" });
  secrets.add(password);
  const key = await api("POST", "/v1/channels/chn_root/keys", { name: "scan", require_signature: true });
  secrets.add(key.secret);
  secrets.add(key.signing_secret);
  const publishable = await api("POST", "/v1/channels/chn_root/keys", {
    type: "publishable",
    name: "scan shop",
    allowed_origins: ["https://shop.example"],
  });
  secrets.add(publishable.secret);
  // Webhook signing secrets are sealed at rest: neither the first nor the rotated one may appear.
  const hook = await api("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/scan-hook", events: ["order.*"] });
  secrets.add(hook.secret);
  secrets.add(hook.secret.slice("whsec_".length));
  const rotated = await api("POST", `/v1/webhooks/${hook.id}/rotate-secret`);
  secrets.add(rotated.secret);
  await api("POST", `/v1/webhooks/${hook.id}/ping`);
  await new Promise((r) => setTimeout(r, 2_000)); // outboxes flushed, projections written
} finally {
  await rt.stop();
}

const found = [];
const needles = [...secrets].filter((s) => s && s.length >= 8).map((s) => [s, Buffer.from(s, "utf8")]);
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else {
      files++;
      const bytes = readFileSync(path);
      for (const [text, needle] of needles)
        if (bytes.includes(needle)) found.push(`${text.slice(0, 4)}… in ${path.slice(rt.dir.length)}`);
    }
  }
};
walk(join(rt.dir, "state"));
rmSync(rt.dir, { recursive: true, force: true });
console.log(`storage scan: ${needles.length} secrets, ${files} files, ${found.length} found in plaintext`);
for (const f of found.slice(0, 20)) console.log(`  ${f}`);
process.exit(found.length === 0 && files > 0 ? 0 : 1);
