/**
 * The hosted buy and order pages and the widget, in Chromium against the real runtime: a purchase through
 * the sandbox on a phone (codes revealed by tap, copied, shown as QR), the order found again by number and
 * password with its timeline, the widget on a page of another origin (opens, resizes, completes a redemption,
 * hears no code), and a page on an origin outside the key's list that cannot frame it. axe-core on each state.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectAccessible, launch, NO_CHROMIUM, newPage, PHONE } from "./browser";
import { apiCaller } from "./seed";

const world = inject("world");
const api = apiCaller(world?.base ?? "", world?.adminToken ?? "");
let browser: Browser;
const servers: Server[] = [];

/** A merchant's page on its own origin (localhost, not 127.0.0.1): the copy-paste snippet of docs/consumers.md. */
async function hostPage(body: (origin: string) => string): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(body(`http://localhost:${(server.address() as AddressInfo).port}`));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://localhost:${(server.address() as AddressInfo).port}`;
}

const snippet = (element: string, pk: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>A merchant's page</title></head><body><main><h1>Merchant shop</h1>
<${element} key="${pk}"></${element}>
<script src="${world.base}/widget.js"></script>
<script>
  window.heard = [];
  for (const type of ["ve-ready", "ve-resize", "ve-redeemed", "ve-paid"])
    document.addEventListener(type, (e) => window.heard.push({ type, detail: e.detail }));
  document.querySelector("iframe").addEventListener("load", () => { document.body.dataset.loaded = "1"; });
</script></main></body></html>`;

async function publishableKey(origins: string[]): Promise<string> {
  const created = await api("POST", `/v1/channels/${world.storeId}/keys`, {
    type: "publishable",
    allowed_origins: origins,
  });
  expect(created.status).toBe(201);
  return created.json.secret;
}

beforeAll(async () => {
  if (!NO_CHROMIUM) browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

describe.skipIf(NO_CHROMIUM)("the hosted buy and order pages", () => {
  it("buys through the sandbox on a phone, reveals the codes by tap, finds the order again", async () => {
    const pk = await publishableKey(["https://lakeside.example"]);
    const { page, errors } = await newPage(browser, { viewport: PHONE });
    await page.goto(`${world.base}/pk/${pk}/buy`);
    await page.getByRole("radio", { name: /Browser VIP card/ }).waitFor();
    expect(await page.getByText("Browser VIP card · CN¥25.00").count()).toBe(1);
    await expectAccessible(page, "buy (catalog)");
    await page.getByLabel("Quantity").fill("2");
    await page.getByLabel("Look-up password (optional)").fill("my order pass 1");
    await page.getByRole("button", { name: "Continue to payment" }).click();
    await page.getByRole("button", { name: "Pay now" }).click();
    const orderHeading = page.getByRole("heading", { name: /Order number: ord_/ });
    await orderHeading.waitFor();
    const orderId = (await orderHeading.textContent())!.split(": ")[1];
    await expectAccessible(page, "buy (paid)");
    await page.getByRole("button", { name: "Show my codes" }).click();
    const codes = page.locator(".codes code");
    await expect.poll(() => codes.count()).toBe(2);
    expect(await page.locator('.timeline li[data-step="revealed"]').getAttribute("class")).toBe("done");
    const shown = await codes.allTextContents();
    for (const code of shown) {
      const verified = await fetch(`${world.base}/v1/public/codes/verify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code }),
      });
      expect(((await verified.json()) as { status: string }).status).toBe("issued");
    }
    await page.getByRole("button", { name: "QR code" }).first().click();
    await page.locator(".qr svg").first().waitFor();
    await expectAccessible(page, "buy (codes)");
    expect(page.url()).not.toMatch(/vot1|ord_/);
    expect(errors).toEqual([]);

    // Another device, the same order: by number and password, in Chinese.
    const other = await newPage(browser, { viewport: PHONE, locale: "zh-CN" });
    await other.page.goto(`${world.base}/order/`);
    await other.page.getByLabel("订单号").fill(orderId);
    await other.page.getByLabel("查询密码").fill("my order pass 1");
    await other.page.getByRole("button", { name: "查询订单" }).click();
    await other.page.getByRole("heading", { name: `订单号: ${orderId}` }).waitFor();
    const timeline = other.page.locator(".timeline li.done strong");
    await expect.poll(() => timeline.allTextContents()).toEqual(["已支付", "已发卡", "已查看卡密"]);
    await expectAccessible(other.page, "order (zh)");
    await other.page.getByLabel("语言").selectOption("en");
    await other.page.getByRole("heading", { name: `Order number: ${orderId}` }).waitFor();
    // A wrong password says what to do, without telling whether the order exists.
    const third = await newPage(browser, { viewport: PHONE });
    await third.page.goto(`${world.base}/order/`);
    await third.page.getByLabel("Order number").fill(orderId);
    await third.page.getByLabel("Look-up password").fill("not my password");
    await third.page.getByRole("button", { name: "Find my order" }).click();
    await third.page.getByRole("alert").filter({ hasText: "We could not find this order" }).waitFor();
    await expectAccessible(third.page, "order (not found)");
  });

  it("pays with Alipay at the top level and comes back to the order", async () => {
    const pk = await publishableKey(["https://lakeside.example"]);
    const { page, errors } = await newPage(browser, { viewport: PHONE, locale: "zh-CN" });
    await page.goto(`${world.base}/pk/${pk}/buy`);
    await page.getByRole("radio", { name: "支付宝" }).check();
    await page.getByRole("button", { name: "去支付" }).click();
    const pay = page.getByRole("link", { name: "打开支付页面" });
    await pay.waitFor();
    expect(await pay.getAttribute("target")).toBe("_top"); // Alipay's cashier never runs in a frame
    const payUrl = new URL((await pay.getAttribute("href"))!);
    expect(payUrl.origin + payUrl.pathname).toBe("https://openapi.alipay.com/gateway.do");
    expect(payUrl.searchParams.get("method")).toBe("alipay.trade.wap.pay");
    expect(payUrl.searchParams.get("return_url")).toBe(`${world.base}/order/`);
    expect(payUrl.searchParams.get("sign")).toBeTruthy();
    const orderId = JSON.parse(payUrl.searchParams.get("biz_content")!).out_trade_no as string;
    await expectAccessible(page, "buy (alipay)");
    // Alipay sends the buyer back with out_trade_no in the query: this tab finds its order without a password.
    await page.goto(`${world.base}/order/?out_trade_no=${orderId}&trade_no=2026120222001`);
    await page.getByRole("heading", { name: `订单号: ${orderId}` }).waitFor();
    expect(errors).toEqual([]);
    // Another tab (or a framed buy page, whose storage is its own) is asked for the password, the number filled in.
    const other = await newPage(browser, { viewport: PHONE });
    await other.page.goto(`${world.base}/order/?out_trade_no=${orderId}`);
    await other.page.getByText("Welcome back.", { exact: false }).waitFor();
    expect(await other.page.getByLabel("Order number").inputValue()).toBe(orderId);
    await expectAccessible(other.page, "order (returned)");
  });

  it("runs in the widget on a page of another origin: opens, resizes, redeems, and hears no code", async () => {
    let pk = "";
    const host = await hostPage(() => snippet("ve-redeem", pk));
    pk = await publishableKey([host]);
    const placed = await api("POST", "/v1/orders", { items: [{ product_id: world.productId, quantity: 1 }] });
    const code = placed.json.items[0].codes[0].code as string;
    const { page, errors } = await newPage(browser, { viewport: PHONE });
    await page.goto(host);
    const frame = page.frameLocator("ve-redeem iframe");
    // The button is enabled once the page's script runs (a click before would submit the bare form).
    await frame.locator("#go:not([disabled])").waitFor();
    await frame.getByLabel("Code", { exact: true }).fill(code);
    await frame.getByRole("button", { name: "Check code" }).click();
    await frame.getByText("This code is valid.").waitFor();
    await frame.getByRole("button", { name: "Redeem now" }).click();
    await frame.getByText("Redeemed. Enjoy!").waitFor();
    const heard = async () => (await page.evaluate(() => (window as any).heard)) as { type: string; detail: any }[];
    await expect.poll(async () => (await heard()).map((h) => h.type)).toContain("ve-redeemed");
    expect((await heard()).map((h) => h.type)).toContain("ve-ready");
    expect(JSON.stringify(await heard())).not.toContain(code);
    // The iframe follows its page's height (it starts at 480 px).
    const height = () => page.locator("ve-redeem iframe").evaluate((f) => (f as HTMLIFrameElement).style.height);
    await expect.poll(height).not.toBe("480px");
    await expectAccessible(page, "widget host page");
    expect(errors).toEqual([]);
  });

  it("cannot be framed by a page whose origin the key does not list", async () => {
    let pk = "";
    const allowed = await hostPage(() => "<!doctype html><title>allowed</title>");
    const intruder = await hostPage(() => snippet("ve-buy", pk));
    pk = await publishableKey([allowed]);
    const { page } = await newPage(browser);
    const refused = new Promise<boolean>((resolve) =>
      page.on("console", (m) => {
        if (/frame-ancestors/.test(m.text())) resolve(true);
      }),
    );
    await page.goto(intruder);
    await page.locator("body[data-loaded='1']").waitFor({ state: "attached" });
    expect(await refused).toBe(true);
    const frame = page.frames().find((f) => f.url().includes("/pk/"));
    const inside = frame
      ? await frame
          .locator("#view")
          .count()
          .catch(() => 0)
      : 0;
    expect(inside).toBe(0);
    expect(((await page.evaluate(() => (window as any).heard)) as unknown[]).length).toBe(0);
    // The page itself says frame-ancestors with exactly the key's list.
    const res = await fetch(`${world.base}/pk/${pk}/buy`);
    expect(res.headers.get("content-security-policy")).toContain(`frame-ancestors ${allowed};`);
    expect(res.headers.get("x-frame-options")).toBeNull();
    expect((await fetch(`${world.base}/pk/pk_unknown_key_000000/buy`)).status).toBe(404);
  });
});
