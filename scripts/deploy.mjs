#!/usr/bin/env node
// npm run deploy: everything a real Cloudflare account needs, idempotently.
// 1. D1 database (created and its id written into wrangler.toml when still the placeholder),
// 2. queues (events, webhooks, top-ups, each with its dead-letter queue; exports), 3. secrets (generated when missing),
// 4. docs assets, 5. the console build, 6. remote D1 migrations, 7. wrangler deploy.
// Needs `npx wrangler login` (or CLOUDFLARE_API_TOKEN) first. Prints the admin token once when it creates it.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const wrangler = (args, input) => {
  const r = spawnSync("npx", ["wrangler", ...args], {
    encoding: "utf8",
    input,
    stdio: [input ? "pipe" : "ignore", "pipe", "pipe"],
  });
  return { ok: r.status === 0, out: `${r.stdout}\n${r.stderr}` };
};
const step = (msg) => console.log(`deploy: ${msg}`);

if (!wrangler(["whoami"]).ok) {
  console.error("deploy: not logged in; run `npx wrangler login` or set CLOUDFLARE_API_TOKEN");
  process.exit(1);
}

let toml = readFileSync("wrangler.toml", "utf8");
if (toml.includes('database_id = "00000000-0000-0000-0000-000000000000"')) {
  const created = wrangler(["d1", "create", "voucher-edge"]);
  const listed = created.ok ? created.out : wrangler(["d1", "info", "voucher-edge"]).out;
  const id = listed.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)?.[0];
  if (!id) {
    console.error(`deploy: could not create or find D1 voucher-edge:\n${listed}`);
    process.exit(1);
  }
  toml = toml.replace('database_id = "00000000-0000-0000-0000-000000000000"', `database_id = "${id}"`);
  writeFileSync("wrangler.toml", toml);
  step(`D1 voucher-edge is ${id} (written to wrangler.toml; commit it)`);
}

for (const queue of [
  "voucher-events",
  "voucher-events-dlq",
  "voucher-webhooks",
  "voucher-webhooks-dlq",
  "voucher-topups",
  "voucher-topups-dlq",
  "voucher-exports",
  "voucher-campaigns",
  "voucher-campaigns-dlq",
]) {
  const r = wrangler(["queues", "create", queue]);
  step(r.ok ? `queue ${queue} created` : `queue ${queue} exists`);
}

const existing = wrangler(["secret", "list"]).out;
const b64url = (n) => randomBytes(n).toString("base64url");
for (const [name, make] of [
  ["CODE_ENCRYPTION_KEY", () => b64url(32)],
  ["CODE_HMAC_KEY", () => b64url(32)],
  ["ADMIN_TOKEN", () => `vat_${b64url(32)}`],
  ["SESSION_SECRET", () => b64url(32)],
]) {
  if (existing.includes(`"${name}"`)) continue;
  const value = make();
  if (!wrangler(["secret", "put", name], value).ok) {
    console.error(`deploy: could not set ${name}`);
    process.exit(1);
  }
  step(`secret ${name} generated`);
  if (name === "ADMIN_TOKEN")
    console.log(`\n  ADMIN_TOKEN (shown once; keep it in your password manager):\n  ${value}\n`);
  if (name.startsWith("CODE_")) step(`back up ${name} safely: codes cannot be read or redeemed without it`);
}

execFileSync("node", [
  "-e",
  "require('fs').cpSync('node_modules/swagger-ui-dist/swagger-ui-bundle.js','public/vendor/swagger-ui/swagger-ui-bundle.js');require('fs').cpSync('node_modules/swagger-ui-dist/swagger-ui.css','public/vendor/swagger-ui/swagger-ui.css')",
]);
// The console's assets (public/console/assets), built fresh so the deploy ships the code in this tree.
execFileSync("node", ["scripts/build-console.mjs"], { stdio: "inherit" });
execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--remote"], { stdio: "inherit" });
execFileSync("npx", ["wrangler", "deploy", "--var", "ENVIRONMENT:production"], { stdio: "inherit" });
