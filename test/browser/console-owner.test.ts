/**
 * The console in real Chromium, as the merchant's owner: sign-in, every page accessible (axe), a product
 * created and 1,000 codes generated with the progress bar at 100 %, a CSV import whose bad line is named,
 * the cockpit following an API order live, an export whose CSV matches the API, and the language switch.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectAccessible, launch, NO_CHROMIUM, newPage, signIn } from "./browser";
import { apiCaller } from "./seed";

const world = inject("world");
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  browser = await launch();
  ({ page, errors } = await newPage(browser));
  await signIn(page, world.base, world.owner);
});
afterAll(async () => {
  await browser?.close();
});

// Without Chromium the set-up provides nothing and the tests below are skipped.
const api = apiCaller(world?.base ?? "", world?.adminToken ?? "");

const kpi = (p: Page, label: string) => p.locator(`[data-kpi="${label}"]`);

describe.skipIf(NO_CHROMIUM)("the console as the owner", () => {
  it("shows every page of the owner's navigation with no serious accessibility finding", async () => {
    const nav = page.getByRole("navigation", { name: "Main" });
    const links = await nav.getByRole("link").allTextContents();
    expect(links).toEqual([
      "Cockpit",
      "Products",
      "Codes",
      "Orders",
      "Redemptions",
      "Redeem",
      "Channels",
      "Campaigns",
      "Finance",
      "Exports",
      "Event log",
      "Webhooks",
      "Audit log",
      "Users",
    ]);
    for (const name of links) {
      await nav.getByRole("link", { name, exact: true }).click();
      await page.getByRole("heading", { level: 1 }).first().waitFor();
      await expect.poll(() => page.locator(".loading").count()).toBe(0);
      await expectAccessible(page, name);
    }
    expect(errors).toEqual([]);
  });

  it("creates a product, generates 1,000 codes with the progress bar reaching 100 %, and edits it", async () => {
    await page.goto(`${world.base}/console/#/products`);
    await page.getByRole("button", { name: "New product" }).click();
    await page.getByLabel("Name", { exact: true }).fill("UI generated card");
    await page.getByLabel("Price (yuan)").fill("12.50");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "UI generated card" }).waitFor();
    await page.getByLabel("How many").fill("1000");
    await page.getByRole("button", { name: "Generate codes" }).click();
    await page.locator('[data-progress="100"]').waitFor({ timeout: 60_000 });
    await page.getByText("Done: 1,000 codes are available.").waitFor();
    await expect.poll(() => page.locator('[data-stock="available"]').textContent()).toBe("1,000");
    const id = page.url().split("/").pop()!;
    const stock = await api("GET", `/v1/products/${id}/stock`);
    expect(stock.json.available).toBe(1000);
    await expectAccessible(page, "product detail");
    // Renamed and paused from the same page: the API sees both at once.
    const editor = page.getByRole("region", { name: "Edit product" });
    await editor.getByLabel("Name").fill("UI generated card v2");
    await editor.getByLabel("Status").selectOption("paused");
    await editor.getByRole("button", { name: "Save" }).click();
    await editor.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    expect((await api("GET", `/v1/products/${id}`)).json).toMatchObject({
      name: "UI generated card v2",
      status: "paused",
    });
  });

  it("names the line of a CSV import that was refused, and stores nothing", async () => {
    await page.goto(`${world.base}/console/#/products/${world.productId}`);
    const before = (await api("GET", `/v1/products/${world.productId}/stock`)).json.available;
    const csv = "code\nGOODCODEA1B2C3D4E5\nbad*code!\nGOODCODEF6G7H8J9K0\n";
    await page
      .getByLabel("CSV file")
      .setInputFiles({ name: "codes.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByRole("button", { name: "Import codes (CSV)" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "lines were refused" });
    await alert.waitFor();
    expect(await alert.textContent()).toContain("Line 3:");
    expect((await api("GET", `/v1/products/${world.productId}/stock`)).json.available).toBe(before);
  });

  it("follows an order placed through the API in the cockpit without a reload", async () => {
    await page.goto(`${world.base}/console/#/cockpit`);
    await page.getByText("Live", { exact: false }).first().waitFor();
    await page.locator(".live.on").waitFor();
    const before = Number((await kpi(page, "Orders").textContent())!.replace(/\D/g, ""));
    const navigations: string[] = [];
    page.on("framenavigated", (f) => f === page.mainFrame() && navigations.push(f.url()));
    const placed = await api(
      "POST",
      "/v1/orders",
      { items: [{ product_id: world.productId, quantity: 2 }] },
      world.storeKey,
    );
    expect(placed.status).toBe(201);
    const t0 = Date.now();
    await expect
      .poll(async () => Number((await kpi(page, "Orders").textContent())!.replace(/\D/g, "")), {
        timeout: 20_000,
        interval: 50,
      })
      .toBeGreaterThanOrEqual(before + 1);
    // Measured here for the record; the 2 s goal is checked by `npm run bench` (docs/benchmarks.md), not by a deadline.
    console.log(`cockpit: order visible ${Date.now() - t0} ms after the API answered`);
    expect(navigations.filter((u) => !u.includes("#"))).toEqual([]);
  });

  it("exports the filtered orders as CSV with a BOM, the same rows the API lists", async () => {
    await page.goto(`${world.base}/console/#/orders`);
    const listed = (await api("GET", `/v1/orders?channel_id=${world.storeId}&limit=100`)).json.data.map(
      (o: { id: string }) => o.id,
    );
    await page.getByLabel("Channel").fill(world.storeId);
    await page.getByRole("button", { name: "Filter" }).click();
    // The unfiltered first page shows until the filter applies: wait for the filtered table itself.
    await expect.poll(() => page.locator("tbody tr").count()).toBe(Math.min(20, listed.length));
    await page.locator("tbody tr", { hasText: listed[0] }).first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const ids = text
      .slice(1)
      .trim()
      .split("\r\n")
      .slice(1)
      .map((l) => l.split(",")[0]);
    expect(ids).toEqual(listed);
    expect(ids.length).toBeGreaterThan(0);
    // The job stays on the Exports page with its filter and row count.
    await page.goto(`${world.base}/console/#/exports`);
    const row = page.locator("tbody tr", { hasText: `channel_id: ${world.storeId}` }).first();
    await row.waitFor();
    expect(await row.textContent()).toContain(`${listed.length} / ${listed.length}`);
    await expectAccessible(page, "exports");
  });

  it("finds a code masked, and reveals it only after the password is typed again", async () => {
    const placed = await api("POST", "/v1/orders", { items: [{ product_id: world.productId, quantity: 1 }] });
    const code: string = placed.json.items[0].codes[0].code;
    await expect.poll(async () => (await api("GET", `/v1/codes?order_id=${placed.json.id}`)).json.data.length).toBe(1);
    await page.goto(`${world.base}/console/#/codes`);
    await page.getByLabel("Orders").fill(placed.json.id);
    await page.getByRole("button", { name: "Search" }).click();
    // The unfiltered list shows first: wait for the row of this order, and for it alone.
    const row = page.locator("tbody tr", { hasText: placed.json.id });
    await row.waitFor();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    expect(await page.locator("main").textContent()).not.toContain(code);
    await row.getByRole("button", { name: "Reveal" }).click();
    await page.getByLabel("Password").fill("not my password");
    await page.locator("form").getByRole("button", { name: "Reveal", exact: true }).click();
    await page.getByText("The password is wrong; nothing was revealed.").waitFor();
    await page.getByLabel("Password").fill(world.owner.password);
    await page.locator("form").getByRole("button", { name: "Reveal", exact: true }).click();
    await page.locator("[data-revealed]").waitFor();
    expect(await page.locator("[data-revealed]").textContent()).toBe(code);
    await expectAccessible(page, "codes (revealed)");
    await page.getByRole("button", { name: "Hide" }).click();
    expect(await page.locator("main").textContent()).not.toContain(code);
  });

  it("sets a child channel's price, moves quota to it and sets its credit line", async () => {
    const quotaOf = async () =>
      (await api("GET", `/v1/products/${world.productId}/stock`)).json.allocations.find(
        (a: { channel_id: string }) => a.channel_id === world.agentId,
      )?.quota ?? 0;
    const before = await quotaOf();
    await page.goto(`${world.base}/console/#/channels/${world.agentId}`);
    await page.getByLabel("Product").selectOption({ label: "Browser VIP card" });
    await page.getByLabel("Price (yuan)").fill("22.00");
    const priceList = page.getByRole("region", { name: "Price list" });
    await priceList.getByRole("button", { name: "Save" }).click();
    await priceList.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await page.getByLabel("Move quota").fill("5");
    await priceList.getByRole("button", { name: "Apply" }).click();
    await expect.poll(quotaOf).toBe(before + 5);
    await expect.poll(() => page.locator("[data-quota]").textContent()).toBe(String(before + 5));
    await page.getByLabel("Credit line (Amount)").fill("500");
    await page.getByRole("region", { name: "Balance" }).getByRole("button", { name: "Save" }).click();
    await expect
      .poll(async () => (await api("GET", `/v1/channels/${world.agentId}/balance`)).json.credit_limit)
      .toBe(50_000);
    await expectAccessible(page, "channel detail");
  });

  it("lists a webhook endpoint's deliveries and replays one", async () => {
    // An endpoint nobody answers (no network here): its deliveries fail and stay listed with their attempts.
    const hook = await api("POST", "/v1/webhooks", {
      url: "https://hooks.example.com/ve",
      events: ["order.fulfilled"],
    });
    expect(hook.status).toBe(201);
    await api("POST", "/v1/orders", { items: [{ product_id: world.productId, quantity: 1 }] });
    await expect
      .poll(async () => (await api("GET", `/v1/webhooks/${hook.json.id}/deliveries`)).json.data.length, {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);
    await page.goto(`${world.base}/console/#/webhooks`);
    await page.getByRole("link", { name: "https://hooks.example.com/ve" }).click();
    await page.getByRole("heading", { name: "Deliveries", level: 1 }).waitFor();
    await page.locator("tbody tr").first().getByRole("button", { name: "Replay" }).click();
    await page.getByRole("status").filter({ hasText: "Queued for delivery again." }).waitFor();
    await expectAccessible(page, "webhook deliveries");
  });

  it("adds a webhook endpoint, shows its secret once, refuses a private address, and disables it", async () => {
    await page.goto(`${world.base}/console/#/webhooks`);
    const form = page.locator("form", { has: page.getByRole("button", { name: "Create" }) });
    await form.getByLabel("URL").fill("https://10.0.0.1/hook");
    await form.getByRole("button", { name: "Create" }).click();
    await page.getByRole("alert").waitFor();
    const url = `https://partner-${Date.now()}.example.com/ve`;
    await form.getByLabel("URL").fill(url);
    await form.getByLabel("Events").fill("order.*, stock.low");
    await form.getByRole("button", { name: "Create" }).click();
    const secret = page.locator("code.secret");
    await secret.waitFor();
    expect(await secret.textContent()).toMatch(/^whsec_/);
    await expectAccessible(page, "webhooks (new endpoint)");
    const row = page.locator("tbody tr", { hasText: url });
    await row.waitFor();
    expect(await row.textContent()).toContain("order.*, stock.low");
    await row.getByRole("button", { name: `Disable ${url}` }).click();
    await row.getByRole("button", { name: `Enable ${url}` }).waitFor();
    const listed = (await api("GET", "/v1/webhooks?limit=100")).json.data.find((w: { url: string }) => w.url === url);
    expect(listed).toMatchObject({ status: "disabled", events: ["order.*", "stock.low"] });
    expect(JSON.stringify(listed)).not.toContain("whsec_");
  });

  it("changes a user's role, disables them (which ends their sign-in) and enables them again", async () => {
    const email = `clerk-${Date.now()}@example.com`;
    const made = await api("POST", "/v1/users", { email, password: "a long clerk password", role: "operator" });
    expect(made.status).toBe(201);
    await page.goto(`${world.base}/console/#/users`);
    const row = page.locator("tbody tr", { hasText: email });
    await row.getByLabel(`Role: ${email}`).selectOption("finance");
    await page
      .getByRole("status")
      .filter({ hasText: `${email}: Finance` })
      .waitFor();
    const users = (await api("GET", "/v1/users?limit=100")).json.data;
    expect(users.find((u: { email: string }) => u.email === email).role).toBe("finance");
    await row.getByRole("button", { name: `Disable ${email}` }).click();
    await row.getByRole("button", { name: `Enable ${email}` }).waitFor();
    expect(await row.textContent()).toContain("Disabled");
    const login = await api("POST", "/v1/sessions", { email, password: "a long clerk password" }, "");
    expect(login.status).toBe(401);
    await row.getByRole("button", { name: `Enable ${email}` }).click();
    await row.getByRole("button", { name: `Disable ${email}` }).waitFor();
    expect((await api("POST", "/v1/sessions", { email, password: "a long clerk password" }, "")).status).toBe(201);
  });

  it("shows a campaign's funnel and pauses it", async () => {
    const made = await api("POST", "/v1/campaigns", {
      name: "Browser trial week",
      product_id: world.productId,
      starts_at: new Date(Date.now() - 60_000).toISOString(),
      ends_at: new Date(Date.now() + 86_400_000).toISOString(),
      max_claims: 10,
    });
    expect(made.status).toBe(201);
    const claimed = await api("POST", `/v1/campaigns/${made.json.id}/claims`, { customer_ref: "browser-trial-1" });
    expect(claimed.status).toBe(201);
    await page.goto(`${world.base}/console/#/campaigns`);
    await page.getByRole("link", { name: "Browser trial week" }).click();
    await page.getByRole("heading", { name: "Browser trial week", level: 1 }).waitFor();
    const funnel = page.getByRole("list", { name: "Funnel" });
    expect(await funnel.textContent()).toContain("Claims1");
    expect(await page.locator("main").textContent()).not.toContain(claimed.json.code.code);
    await expectAccessible(page, "campaign detail");
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("button", { name: "Resume" }).waitFor();
    expect((await api("GET", `/v1/campaigns/${made.json.id}`)).json.status).toBe("paused");
  });

  it("switches to Chinese and back, labels and money included", async () => {
    await page.goto(`${world.base}/console/#/cockpit`);
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
    await page.getByRole("heading", { name: "数据驾驶舱" }).waitFor();
    expect(await page.getByRole("navigation", { name: "主导航" }).getByRole("link").first().textContent()).toBe(
      "数据驾驶舱",
    );
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("zh-CN");
    await expectAccessible(page, "cockpit zh");
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
    await page.getByRole("heading", { name: "Cockpit" }).waitFor();
  });

  it("signs out, and a request after the session ended shows the sign-in with a message", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to the console" }).waitFor();
    await signIn(page, world.base, world.owner);
    // Another tab signed out (or the session expired): the next call answers 401.
    await page.evaluate(() =>
      fetch("/v1/sessions/current", {
        method: "DELETE",
        headers: { "x-csrf-token": sessionStorage.getItem("ve.console.csrf") ?? "" },
      }),
    );
    // The next call answers 401: a click, or the cockpit's own re-read if it comes first, brings the sign-in back.
    await page
      .getByRole("link", { name: "Orders" })
      .click({ timeout: 5_000 })
      .catch(() => undefined);
    await page.getByText("Your session has ended. Sign in again to continue.").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("ve.console.csrf"))).toBeNull();
  });
});
