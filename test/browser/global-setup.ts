/**
 * Once for all browser tests: build the console, start a fresh local runtime (wrangler dev on a temp state,
 * bench/runtime.mjs), and seed what the tests share: an owner, an agent with two stores (a manager for one),
 * a product with codes in both stores' pools. The tests get the URLs and credentials through inject().
 */
import type { TestProject } from "vitest/node";
// @ts-expect-error plain .mjs scripts without types
import { startRuntime } from "../../bench/runtime.mjs";
// @ts-expect-error plain .mjs scripts without types
import { buildConsole } from "../../scripts/build-console.mjs";
// @ts-expect-error plain .mjs scripts without types
import { CHROMIUM_PATH, HAVE_CHROMIUM } from "../../scripts/chromium.mjs";
// @ts-expect-error plain .mjs scripts without types
import { demoAlipayApp } from "../../scripts/screenshots-shop.mjs";
import { type Seeded, seedBrowserWorld } from "./seed";

declare module "vitest" {
  export interface ProvidedContext {
    world: Seeded;
  }
}

let stop: (() => Promise<void>) | undefined;

export default async function setup(project: TestProject) {
  if (!HAVE_CHROMIUM) {
    console.warn(`browser tests: skipped, no Chromium at ${CHROMIUM_PATH} (apt-get install chromium fonts-noto-cjk)`);
    return;
  }
  await buildConsole({ quiet: true });
  const rt = await startRuntime({
    log: () => undefined,
    extraEnv: demoAlipayApp() /* the buy page offers Alipay and signs its URL; nothing reaches Alipay */,
  });
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
