#!/usr/bin/env node
// npm run screenshots: every console page in en and zh-CN, at 1280×800 and 390×844, as the owner and as a
// store's channel manager, into screenshots/ (git-ignored). Starts its own runtime on a temp state (the demo
// seed included) and stops it, whole process group, when done.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { startRuntime } from "../bench/runtime.mjs";
import { buildConsole } from "./build-console.mjs";
import { launchChromium } from "./chromium.mjs";
import { demoAlipayApp, shootShop } from "./screenshots-shop.mjs";
import { seed } from "./seed.mjs";
import { DEMO_MANAGER_EMAIL, DEMO_OWNER_EMAIL, seedUsers } from "./seed-users.mjs";

const out = resolve(import.meta.dirname, "..", "screenshots");
mkdirSync(out, { recursive: true });
const PAGES = [
  "cockpit",
  "products",
  "codes",
  "orders",
  "redemptions",
  "redeem",
  "channels",
  "campaigns",
  "finance",
  "exports",
  "events",
  "webhooks",
  "audit",
  "users",
];
/** The first active code product of the demo catalog. */
async function firstProduct(rt) {
  const res = await fetch(`${rt.base}/v1/products?limit=100`, {
    headers: { authorization: `Bearer ${rt.adminToken}` },
  });
  return (await res.json()).data.find((p) => p.kind === "code" && p.status === "active");
}

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const passwords = { ownerPassword: "screenshot-owner-pass", managerPassword: "screenshot-manager-pass" };

await buildConsole({ quiet: true });
const rt = await startRuntime({ log: () => undefined, extraEnv: demoAlipayApp() });
const browser = await launchChromium();
let shots = 0;
try {
  // The setup script's owner is created by setup.mjs on a developer's state; here seedUsers makes both.
  await seed(rt.base, rt.adminToken, () => undefined);
  await seedUsers(rt.base, rt.adminToken, passwords);
  const users = [
    { who: "owner", email: DEMO_OWNER_EMAIL, password: passwords.ownerPassword },
    { who: "manager", email: DEMO_MANAGER_EMAIL, password: passwords.managerPassword },
  ];
  // `npm run screenshots -- consumer` writes only the hosted consumer pages.
  for (const user of process.argv.includes("consumer") ? [] : users)
    for (const lang of ["en", "zh-CN"])
      for (const [size, viewport] of Object.entries(VIEWPORTS)) {
        const context = await browser.newContext({ locale: lang, viewport });
        const page = await context.newPage();
        await page.goto(`${rt.base}/console/`);
        await page.screenshot({ path: join(out, `signin-${lang}-${size}.png`) });
        await page.locator('input[type="email"]').fill(user.email);
        await page.locator('input[type="password"]').fill(user.password);
        await page.locator('button[type="submit"]').click();
        await page.locator("nav.side").waitFor();
        for (const name of PAGES) {
          await page.goto(`${rt.base}/console/#/${name}`);
          await page.locator("main h1").first().waitFor();
          await page.waitForFunction(() => document.querySelectorAll(".loading").length === 0);
          await page.waitForTimeout(300); // the chart's first frame
          await page.screenshot({ path: join(out, `${user.who}-${name}-${lang}-${size}.png`), fullPage: true });
          shots++;
        }
        await context.close();
      }
  // The hosted redemption page: empty, then a demo code checked (it is not redeemed).
  const order = await fetch(`${rt.base}/v1/orders`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${rt.adminToken}`,
      "content-type": "application/json",
      "idempotency-key": `shot-${Date.now()}`,
    },
    body: JSON.stringify({ items: [{ product_id: (await firstProduct(rt)).id, quantity: 1 }] }),
  }).then((r) => r.json());
  for (const lang of ["en", "zh-CN"])
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ locale: lang, viewport });
      const page = await context.newPage();
      await page.goto(`${rt.base}/redeem/`);
      await page.locator("#go:not([disabled])").waitFor();
      await page.screenshot({ path: join(out, `consumer-redeem-${lang}-${size}.png`), fullPage: true });
      await page.locator("#code").fill(order.items[0].codes[0].code);
      await page.locator("#go").click();
      await page.locator("#info p").first().waitFor();
      await page.screenshot({ path: join(out, `consumer-redeem-checked-${lang}-${size}.png`), fullPage: true });
      shots += 2;
      await context.close();
    }
  shots += await shootShop({ rt, browser, product: await firstProduct(rt), out, viewports: VIEWPORTS });
  console.log(`screenshots: ${shots} pages written to ${out}`);
} finally {
  await browser.close();
  await rt.stop();
}
