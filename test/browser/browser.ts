/**
 * Debian's Chromium driven by playwright-core (its own browser download does not work here), the console's
 * sign-in, and the axe-core check every page gets.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
// @ts-expect-error a plain .mjs script without types
import { HAVE_CHROMIUM, launchChromium } from "../../scripts/chromium.mjs";

/** The browser tests need Debian's chromium; without it they are reported as skipped, never as passed. */
export const NO_CHROMIUM = !HAVE_CHROMIUM;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export const launch = (): Promise<Browser> => launchChromium();

export async function newPage(
  browser: Browser,
  opts: { locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    locale: opts.locale ?? "en-US",
    viewport: opts.viewport ?? DESKTOP,
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return { context, page, errors };
}

export async function signIn(page: Page, base: string, user: { email: string; password: string }, lang = "en") {
  await page.goto(`${base}/console/`);
  await page.getByLabel(lang === "en" ? "Email" : "邮箱").fill(user.email);
  await page.getByLabel(lang === "en" ? "Password" : "密码").fill(user.password);
  await page.getByRole("button", { name: lang === "en" ? "Sign in" : "登录" }).click();
  await page.getByRole("navigation", { name: lang === "en" ? "Main" : "主导航" }).waitFor();
}

/** No serious or critical axe-core finding on the page as it is now. */
export async function expectAccessible(page: Page, label: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id}: ${v.help} (${v.nodes
          .map((n) => n.target.join(" "))
          .slice(0, 3)
          .join(", ")})`,
    );
  expect(bad, `axe on ${label}`).toEqual([]);
}
