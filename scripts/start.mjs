#!/usr/bin/env node
// npm start: set-up (secrets, migrations), wrangler dev on 127.0.0.1:8787, demo seed, then the URLs and credentials.
// Ctrl-C stops wrangler and its workerd children (they run in their own process group).
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { seed } from "./seed.mjs";
import { DEMO_MANAGER_EMAIL, DEMO_OWNER_EMAIL, DEMO_STORE_NAME, seedUsers } from "./seed-users.mjs";

const port = Number(process.env.PORT ?? 8787);
const base = `http://127.0.0.1:${port}`;
execFileSync("node", ["scripts/setup.mjs"], { stdio: "inherit" });
execFileSync("node", ["scripts/build-console.mjs"], { stdio: "inherit" });

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
// The fake top-up provider (reads its secret from .dev.vars) in its own process group; wrangler dev gets its URL and the callback URL.
const providerUrl = `http://127.0.0.1:${Number(process.env.TOPUP_FAKE_PORT ?? 8790)}`;
const provider = spawn("node", ["scripts/fake-topup-provider.mjs", "--port", providerUrl.split(":").pop()], {
  env,
  stdio: "inherit",
  detached: true,
});
const topupVars = [
  "--var",
  `TOPUP_PROVIDER_URL:${providerUrl}`,
  "--var",
  `TOPUP_NOTIFY_URL:${base}/v1/public/topup/notify`,
];
const dev = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--log-level",
    process.env.LOG_LEVEL ?? "warn",
    ...topupVars,
  ],
  { env, stdio: "inherit", detached: true },
);
const stop = () => {
  try {
    process.kill(-dev.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
  try {
    process.kill(-provider.pid, "SIGTERM");
  } catch {
    /* already gone */
  }
};
process.on("SIGINT", () => {
  stop();
  process.exit(0);
});
process.on("SIGTERM", () => {
  stop();
  process.exit(0);
});
dev.on("exit", (code) => {
  try {
    process.kill(-provider.pid, "SIGTERM");
  } catch {
    /* gone */
  }
  process.exit(code ?? 0);
});

for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/healthz`)).ok) break;
  } catch {
    /* not up yet */
  }
  if (i > 300) {
    console.error("start: wrangler dev did not come up");
    stop();
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
const vars = readFileSync(".dev.vars", "utf8");
const devVar = (name) => vars.match(new RegExp(`^${name}=(.*)$`, "m"))?.[1]?.trim();
const token = devVar("ADMIN_TOKEN");
await seed(base, token);
const passwords = { ownerPassword: devVar("DEMO_OWNER_PASSWORD"), managerPassword: devVar("DEMO_MANAGER_PASSWORD") };
await seedUsers(base, token, passwords);
console.log(`
Voucher Edge is running (local runtime, state in .wrangler/state)
  API      ${base}/v1
  Docs     ${base}/docs
  Spec     ${base}/v1/openapi.json
  Console  ${base}/console/
  Redeem   ${base}/redeem/  (the consumer's page: type a code from an order)
  Top-up   fake provider ${providerUrl}  (test rules by account ending: docs/topup.md)
  Admin token (root key, from .dev.vars):
    ${token}
  Try:     curl -H "Authorization: Bearer ${token}" ${base}/v1/products
  Console users (passwords from .dev.vars):
    owner          ${DEMO_OWNER_EMAIL}  /  ${passwords.ownerPassword}
    store manager  ${DEMO_MANAGER_EMAIL}  /  ${passwords.managerPassword}   (${DEMO_STORE_NAME})
  Open the console: ${base}/console/
Press Ctrl-C to stop.`);
