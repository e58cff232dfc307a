/**
 * The hosted redemption page (/redeem/) as a consumer uses it on a phone: a real code checked (product and
 * validity shown), redeemed, the same code refused the second time, an unknown code in Chinese, keyboard only,
 * and axe-core on each state.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectAccessible, launch, NO_CHROMIUM, newPage, PHONE } from "./browser";
import { apiCaller } from "./seed";

const world = inject("world");
const api = apiCaller(world?.base ?? "", world?.adminToken ?? "");
let browser: Browser;

beforeAll(async () => {
  if (!NO_CHROMIUM) browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

async function freshCode(): Promise<string> {
  const placed = await api("POST", "/v1/orders", { items: [{ product_id: world.productId, quantity: 1 }] });
  expect(placed.status).toBe(201);
  return placed.json.items[0].codes[0].code;
}

async function open(locale: string): Promise<{ page: Page; errors: string[] }> {
  const { page, errors } = await newPage(browser, { locale, viewport: PHONE });
  await page.goto(`${world.base}/redeem/`);
  await page.locator("#go:not([disabled])").waitFor();
  return { page, errors };
}

describe.skipIf(NO_CHROMIUM)("the hosted redemption page", () => {
  it("checks a real code, redeems it with the keyboard only, and refuses it the second time", async () => {
    const code = await freshCode();
    const { page, errors } = await open("en-US");
    await expectAccessible(page, "redeem (empty)");
    await page.getByLabel("Code", { exact: true }).fill(code.toLowerCase().replace(/-/g, " "));
    await page.keyboard.press("Enter");
    await page.getByText("This code is valid.").waitFor();
    expect(await page.locator("#info").textContent()).toContain("Browser VIP card");
    await expectAccessible(page, "redeem (checked)");
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("go");
    await page.keyboard.press("Enter");
    await page.getByText("Redeemed. Enjoy!").waitFor();
    expect(page.url()).not.toContain(code);
    await page.getByRole("button", { name: "Redeem another code" }).click();
    await page.getByLabel("Code", { exact: true }).fill(code);
    await page.getByRole("button", { name: "Check code" }).click();
    await page.getByRole("alert").filter({ hasText: "This code was already redeemed." }).waitFor();
    expect(errors).toEqual([]);
  });

  it("speaks Chinese to a Chinese browser and says what to do with an unknown code", async () => {
    const { page } = await open("zh-CN");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("兑换卡密");
    await page.getByLabel("兑换码", { exact: true }).fill("ZZZZ-ZZZZ-ZZZZ-ZZZZ");
    await page.getByRole("button", { name: "校验兑换码" }).click();
    await page.getByRole("alert").filter({ hasText: "未找到此兑换码" }).waitFor();
    await expectAccessible(page, "redeem (zh, error)");
    await page.getByLabel("语言").selectOption("en");
    await page.getByRole("button", { name: "Check code" }).waitFor();
  });
});
