// The hosted buy and order pages for `npm run screenshots`: the catalog, the paid order with its codes shown,
// and the order look-up form, in en and zh-CN at each viewport. Buys one demo code per language and size
// through the sandbox.
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";

/** Fresh keys for an Alipay app, so the buy page offers Alipay (its signed URL is shown, never opened). */
export function demoAlipayApp() {
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
      // Alipay: the pay step (its cashier opens at the top level), then the return in another tab.
      await page.goto(`${rt.base}/pk/${pk}/buy`);
      await page.locator(`input[value="${product.id}"]`).check();
      await page.locator('input[value="alipay"]').check();
      await page.locator("form button[type=submit]").click();
      const pay = page.locator('a.button[target="_top"]');
      await pay.waitFor();
      await shot("buy-alipay");
      const orderId = JSON.parse(new URL(await pay.getAttribute("href")).searchParams.get("biz_content")).out_trade_no;
      const back = await context.newPage();
      await back.goto(`${rt.base}/order/?out_trade_no=${orderId}`);
      await back.locator("#order-id").waitFor();
      await back.screenshot({ path: join(out, `consumer-order-returned-${lang}-${size}.png`), fullPage: true });
      shots++;
      await context.close();
    }
  return shots;
}
