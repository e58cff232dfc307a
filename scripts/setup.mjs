#!/usr/bin/env node
// Idempotent local set-up: writes missing secrets into .dev.vars and applies the local D1 migrations.
// Prints the admin token only when it was just created (it lives in .dev.vars afterwards).
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, cpSync, mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";

const file = ".dev.vars";
const current = existsSync(file) ? readFileSync(file, "utf8") : "";
const have = new Set(current.split("\n").map((l) => l.split("=")[0].trim()).filter(Boolean));
const b64url = (n) => randomBytes(n).toString("base64url");
const wanted = {
  ADMIN_TOKEN: () => `vat_${b64url(32)}`,
  CODE_ENCRYPTION_KEY: () => b64url(32),
  CODE_HMAC_KEY: () => b64url(32),
};
const added = [];
let text = current && !current.endsWith("\n") ? current + "\n" : current;
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
  for (const f of ["swagger-ui-bundle.js", "swagger-ui.css"]) cpSync(`node_modules/swagger-ui-dist/${f}`, `${vendor}/${f}`);
}

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], { stdio: ["ignore", "inherit", "inherit"], env });
console.log("setup: local D1 migrations applied");
