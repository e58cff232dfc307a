// The hosted buy and order pages for `npm run screenshots`: the catalog, the paid order with its codes shown,
// and the order look-up form, in en and zh-CN at each viewport. Buys one demo code per language and size
// through the sandbox.
import { join } from "node:path";

export async function shootShop({ rt, browser, product, out, viewports }) {
  const res = await fetch(`${rt.base}/v1/channels/chn_root/keys`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${rt.adminToken}`,
      "content-type": "application/json",
      "idempotency-key": `shot-key-${Date.now()}`,
    },
    body: JSON.stringify({ type: "publishable", allowed_origins: ["https://shop.example"] }),
  });
  const pk = (await res.json()).secret;
  let shots = 0;
  for (const lang of ["en", "zh-CN"])
    for (const [size, viewport] of Object.entries(viewports)) {
      const context = await browser.newContext({ locale: lang, viewport });
      const page = await context.newPage();
      const shot = async (name) => {
        await page.screenshot({ path: join(out, `consumer-${name}-${lang}-${size}.png`), fullPage: true });
        shots++;
      };
      await page.goto(`${rt.base}/pk/${pk}/buy`);
      await page.locator(`input[value="${product.id}"]`).check();
      await shot("buy");
      await page.locator("#password").fill("screenshot pass");
      await page.locator("form button[type=submit]").click();
      await page.locator(".card button").click();
      await page.locator(".timeline").waitFor();
      await shot("buy-paid");
      await page.locator("#codes > button").click();
      await page.locator(".codes code").first().waitFor();
      await page.locator(".code .actions button").nth(1).click();
      await page.locator(".qr svg").first().waitFor();
      await shot("buy-codes");
      await page.goto(`${rt.base}/order/`);
      await page.locator("#order-id").waitFor();
      await shot("order-find");
      await context.close();
    }
  return shots;
}
