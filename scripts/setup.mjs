#!/usr/bin/env node
import { execFileSync } from "node:child_process";
// Idempotent local set-up: writes missing secrets into .dev.vars and applies the local D1 migrations.
// Prints the admin token only when it was just created (it lives in .dev.vars afterwards).
// Creates the first console owner when the users table is empty and prints its password once.
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const file = ".dev.vars";
const current = existsSync(file) ? readFileSync(file, "utf8") : "";
const have = new Set(
  current
    .split("\n")
    .map((l) => l.split("=")[0].trim())
    .filter(Boolean),
);
const b64url = (n) => randomBytes(n).toString("base64url");
const wanted = {
  ADMIN_TOKEN: () => `vat_${b64url(32)}`,
  CODE_ENCRYPTION_KEY: () => b64url(32),
  CODE_HMAC_KEY: () => b64url(32),
  SESSION_SECRET: () => b64url(32),
  // The local sandbox payment gateway's signing secret (docs/payments.md); real gateways' secrets are set by hand.
  SANDBOX_GATEWAY_SECRET: () => b64url(32),
  // Shared with the top-up provider (locally: scripts/fake-topup-provider.mjs reads it from here).
  TOPUP_PROVIDER_SECRET: () => b64url(32),
  // Local demo console users (npm start prints them): the first owner and the demo store's manager.
  DEMO_OWNER_PASSWORD: () => b64url(12),
  DEMO_MANAGER_PASSWORD: () => b64url(12),
};
const added = [];
let text = current && !current.endsWith("\n") ? `${current}\n` : current;
for (const [name, make] of Object.entries(wanted)) {
  if (!have.has(name)) {
    text += `${name}=${make()}\n`;
    added.push(name);
  }
}
if (added.length) {
  writeFileSync(file, text, { mode: 0o600 });
  console.log(`setup: wrote ${added.join(", ")} to ${file}`);
} else {
  console.log(`setup: ${file} already has every secret`);
}

// Interactive API docs are served from our own assets, not a CDN.
const vendor = "public/vendor/swagger-ui";
if (!existsSync(`${vendor}/swagger-ui-bundle.js`) && existsSync("node_modules/swagger-ui-dist")) {
  mkdirSync(vendor, { recursive: true });
  for (const f of ["swagger-ui-bundle.js", "swagger-ui.css"])
    cpSync(`node_modules/swagger-ui-dist/${f}`, `${vendor}/${f}`);
}

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], {
  stdio: ["ignore", "inherit", "inherit"],
  env,
});
console.log("setup: local D1 migrations applied");

const readVar = (name) =>
  readFileSync(file, "utf8")
    .match(new RegExp(`^${name}=(.*)$`, "m"))?.[1]
    ?.trim() || null;

// The first console owner, only while the users table is empty. The hash has the Worker's format
// (src/security/sessions.ts): pbkdf2-sha256$100000$<salt b64url>$<hash b64url>.
const d1 = (command) =>
  execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--json", "--command", command], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env,
  });
const count = JSON.parse(d1("SELECT COUNT(*) AS n FROM users"))[0]?.results?.[0]?.n ?? 0;
if (count === 0) {
  const email = (process.env.OWNER_EMAIL || "owner@example.com").trim().toLowerCase();
  if (!/^[^\s@']+@[^\s@']+\.[^\s@']+$/.test(email))
    throw new Error(`setup: OWNER_EMAIL is not an email address: ${email}`);
  const password = readVar("DEMO_OWNER_PASSWORD") ?? b64url(18);
  const salt = randomBytes(16);
  const hash = `pbkdf2-sha256$100000$${salt.toString("base64url")}$${pbkdf2Sync(password, salt, 100_000, 32, "sha256").toString("base64url")}`;
  const now = Date.now();
  const C32 = "0123456789abcdefghjkmnpqrstvwxyz"; // the Worker's ids: 10 characters of time, 16 random, Crockford base32
  let time = "";
  for (let i = 0, t = now; i < 10; i++, t = Math.floor(t / 32)) time = C32[t % 32] + time;
  const id = `usr_${time}${Array.from(randomBytes(16), (b) => C32[b & 31]).join("")}`;
  d1(
    `INSERT INTO users (id, email, password_hash, role, channel_id, status, failed_logins, locked_until, created_at, updated_at) VALUES ('${id}', '${email}', '${hash}', 'owner', NULL, 'active', 0, NULL, ${now}, ${now}) ON CONFLICT (email) DO NOTHING`,
  );
  console.log(
    `\n  Console owner created (its password is DEMO_OWNER_PASSWORD in .dev.vars):\n  email:    ${email}\n  password: ${password}\n`,
  );
} else {
  console.log("setup: console users exist");
}
