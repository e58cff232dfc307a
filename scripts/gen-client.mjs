#!/usr/bin/env node
// Regenerates the typed client's spec and types from the Worker's own routes (no runtime needed):
// bundles src/app.ts for Node with `cloudflare:workers` stubbed, asks the app for GET /v1/openapi.json,
// writes packages/client/openapi.json, then runs openapi-typescript into packages/client/src/schema.d.ts.
// `npm run client:generate`; test/client-spec.test.ts fails when the committed copy is out of date.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "ve-openapi-"));
try {
  const out = join(dir, "app.mjs");
  await build({
    entryPoints: [join(root, "src/app.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: out,
    alias: { "cloudflare:workers": join(root, "scripts/openapi-stub-workers.mjs") },
    logLevel: "error",
  });
  const { app } = await import(pathToFileURL(out).href);
  // Throw-away secrets: the app checks them before any route; nothing is stored or signed.
  const key = () => randomBytes(32).toString("base64url");
  const env = { CORS_ORIGINS: "", ADMIN_TOKEN: `vat_${key()}`, CODE_ENCRYPTION_KEY: key(), CODE_HMAC_KEY: key() };
  const res = await app.request("/v1/openapi.json", {}, env);
  if (!res.ok) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  const spec = await res.json();
  const specFile = join(root, "packages/client/openapi.json");
  writeFileSync(specFile, `${JSON.stringify(spec, null, 2)}\n`);
  execFileSync(
    join(root, "node_modules/.bin/openapi-typescript"),
    // --default-non-nullable=false: a field with a default stays optional (the API fills it in).
    [specFile, "--default-non-nullable=false", "--output", join(root, "packages/client/src/schema.d.ts")],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  console.log(`client: ${Object.keys(spec.paths).length} paths → packages/client/openapi.json, src/schema.d.ts`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
