/**
 * The console as a store's channel manager: the same pages show only the store's subtree (the sibling
 * store's name, id and numbers never appear), the navigation has no merchant-only pages, and a clerk redeems
 * a code on a phone-sized screen.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectAccessible, launch, NO_CHROMIUM, newPage, PHONE, signIn } from "./browser";

const world = inject("world");
let browser: Browser;

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

async function settled(page: Page) {
  await page.getByRole("heading", { level: 1 }).first().waitFor();
  await expect.poll(() => page.locator(".loading").count()).toBe(0);
}

describe.skipIf(NO_CHROMIUM)("the console as a store's channel manager", () => {
  it("sees its own subtree only, on every page it can open", async () => {
    const { page, context, errors } = await newPage(browser);
    await signIn(page, world.base, world.manager);
    const nav = page.getByRole("navigation", { name: "Main" });
    const links = await nav.getByRole("link").allTextContents();
    expect(links).not.toContain("Users");
    for (const name of links) {
      await nav.getByRole("link", { name, exact: true }).click();
      await settled(page);
      await page.waitForLoadState("networkidle");
      const text = await page.locator("body").textContent();
      expect(text, `${name} shows the sibling`).not.toContain(world.siblingName);
      expect(text, `${name} shows the sibling's id`).not.toContain(world.siblingId);
      expect(text, `${name} shows the sibling's customer`).not.toContain("river-buyer");
      await expectAccessible(page, `${name} (channel manager)`);
    }
    // An id of the sibling typed into the address bar answers like an unknown one.
    await page.goto(`${world.base}/console/#/channels/${world.siblingId}`);
    await page.getByRole("alert").waitFor();
    expect(await page.locator("body").textContent()).not.toContain(world.siblingName);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("redeems a code on a phone, and says so when the same code comes again", async () => {
    const placed = await fetch(`${world.base}/v1/orders`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${world.storeKey}`,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: JSON.stringify({ items: [{ product_id: world.productId, quantity: 1 }] }),
    });
    const code = ((await placed.json()) as any).items[0].codes[0].code as string;
    const { page, context } = await newPage(browser, { viewport: PHONE, locale: "zh-CN" });
    await signIn(page, world.base, world.manager, "zh");
    await page.goto(`${world.base}/console/#/redeem`);
    await page.getByLabel("卡密", { exact: true }).fill(code);
    await page.getByRole("button", { name: "查询" }).click();
    await page.getByRole("status").filter({ hasText: "有效" }).waitFor();
    await page.getByRole("button", { name: "核销", exact: true }).click();
    await page.getByText("核销成功，请为顾客发货。").waitFor();
    expect(await page.getByLabel("卡密", { exact: true }).inputValue()).toBe("");
    await expectAccessible(page, "redeem (phone, zh)");
    await page.getByLabel("卡密", { exact: true }).fill(code);
    await page.getByRole("button", { name: "核销", exact: true }).click();
    await page.getByRole("alert").waitFor();
    // Nothing scrolls sideways on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await context.close();
  });
});
