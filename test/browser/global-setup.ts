/**
 * Once for all browser tests: build the console, start a fresh local runtime (wrangler dev on a temp state,
 * bench/runtime.mjs), and seed what the tests share: an owner, an agent with two stores (a manager for one),
 * a product with codes in both stores' pools. The tests get the URLs and credentials through inject().
 */
import { generateKeyPairSync } from "node:crypto";
import type { TestProject } from "vitest/node";
// @ts-expect-error plain .mjs scripts without types
import { startRuntime } from "../../bench/runtime.mjs";
// @ts-expect-error plain .mjs scripts without types
import { buildConsole } from "../../scripts/build-console.mjs";
// @ts-expect-error plain .mjs scripts without types
import { CHROMIUM_PATH, HAVE_CHROMIUM } from "../../scripts/chromium.mjs";
import { type Seeded, seedBrowserWorld } from "./seed";

declare module "vitest" {
  export interface ProvidedContext {
    world: Seeded;
  }
}

let stop: (() => Promise<void>) | undefined;

/** An Alipay app (fresh keys) so the hosted buy page offers Alipay and signs its pay URL; nothing is sent to Alipay. */
function alipayApp(): Record<string, string> {
  const pair = () =>
    generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
  const [alipay, app] = [pair(), pair()];
  return {
    ALIPAY_APP_ID: "2021000000000000",
    ALIPAY_PUBLIC_KEY: alipay.publicKey,
    ALIPAY_APP_PRIVATE_KEY: app.privateKey,
  };
}

export default async function setup(project: TestProject) {
  if (!HAVE_CHROMIUM) {
    console.warn(`browser tests: skipped, no Chromium at ${CHROMIUM_PATH} (apt-get install chromium fonts-noto-cjk)`);
    return;
  }
  await buildConsole({ quiet: true });
  const rt = await startRuntime({ log: () => undefined, extraEnv: alipayApp() });
  stop = rt.stop;
  try {
    project.provide("world", await seedBrowserWorld(rt.base, rt.adminToken));
  } catch (err) {
    await rt.stop();
    throw err;
  }
  return async () => {
    await stop?.();
  };
}
