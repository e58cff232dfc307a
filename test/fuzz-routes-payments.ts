/** Fuzz routes of payments: the top-up callback, checkout, gateway notices, the sandbox payer, refunds. */
import fc from "fast-check";
import { bodyText } from "./fuzz-bodies";
import { f } from "./fuzz-fixtures";
import { ids, type RouteSpec } from "./fuzz-inputs";
import { mutatedBody, weirdValue } from "./fuzz-values";

export const paymentRoutes: RouteSpec[] = [
  // Top-up provider callback (docs/topup.md): unsigned or mis-signed notices are 401, never 5xx.
  {
    name: "POST /v1/public/topup/notify",
    method: "POST",
    path: () => fc.constant("/v1/public/topup/notify"),
    body: () =>
      bodyText(
        mutatedBody(
          fc.constantFrom<Record<string, unknown>>(
            { out_trade_no: "ord_01abcdefgh-0", status: "succeeded", provider_ref: "up_1" },
            { out_trade_no: "ord_x-99", status: "failed", error: "account_invalid" },
          ),
          [["out_trade_no"], ["status"], ["provider_ref"], ["error"]],
        ),
      ),
  },
  // Checkout and gateway notices (docs/payments.md): bad input is 4xx, unsigned notices 401, never 5xx.
  {
    name: "POST /v1/checkout",
    method: "POST",
    path: () => fc.constant("/v1/checkout"),
    idempotency: true,
    runs: 40,
    body: () =>
      bodyText(
        mutatedBody(
          fc.constantFrom<Record<string, unknown>>(
            { items: [{ product_id: f.product, quantity: 1 }], gateway: "sandbox" },
            {
              items: [{ product_id: f.card, quantity: 2 }],
              gateway: "alipay",
              customer_ref: "c1",
              return_url: "https://shop.example/done",
            },
          ),
          [
            ["items"],
            ["items", 0],
            ["items", 0, "product_id"],
            ["items", 0, "quantity"],
            ["gateway"],
            ["customer_ref"],
            ["return_url"],
            ["lookup_password"],
          ],
        ),
      ),
  },
  // The hosted buy and order pages (docs/consumers.md): bad tokens and passwords are 4xx, never 5xx.
  { name: "GET /v1/catalog", method: "GET", path: () => fc.constant("/v1/catalog") },
  ...(["lookup", "reveal"] as const).map(
    (what): RouteSpec => ({
      name: `POST /v1/public/orders/${what}`,
      method: "POST",
      path: () => fc.constant(`/v1/public/orders/${what}`),
      runs: 30,
      body: () =>
        bodyText(
          mutatedBody(
            fc.constantFrom<Record<string, unknown>>(
              { token: "vot1.ord_abc.9999999999.0123456789abcdef0123456789abcdef01234567" },
              { order_id: f.orders[0] ?? "ord_x", password: "some password" },
            ),
            [["token"], ["order_id"], ["password"]],
          ),
        ),
    }),
  ),
  {
    name: "GET /v1/checkout/{order_id}",
    method: "GET",
    path: () => ids.ord().map((id) => `/v1/checkout/${id}`),
    query: ["client_secret"],
  },
  ...(["sandbox", "stripe", "alipay", "wechat", "paypal"] as const).map(
    (g): RouteSpec => ({
      name: `POST /v1/public/payments/${g}/notify`,
      operation: "POST /v1/public/payments/{gateway}/notify",
      method: "POST",
      path: () => fc.constant(`/v1/public/payments/${g}/notify`),
      runs: 40,
      body: () =>
        bodyText(
          mutatedBody(
            fc.constantFrom<Record<string, unknown>>(
              { id: "ntc_1", type: "payment.succeeded", data: { order_id: "ord_x", amount: 1, currency: "CNY" } },
              { id: "evt_1", type: "payment_intent.succeeded", data: { object: { metadata: { order_id: "ord_x" } } } },
              { resource: { ciphertext: "AAAA", nonce: "n" } },
            ),
            [["id"], ["type"], ["data"], ["resource"]],
          ),
        ),
      contentType: () =>
        fc.constantFrom("application/json", "application/x-www-form-urlencoded", undefined, "text/plain"),
    }),
  ),
  {
    name: "POST /v1/public/sandbox/pay/{order_id}",
    method: "POST",
    path: () => ids.ord().map((id) => `/v1/public/sandbox/pay/${id}`),
    body: () => bodyText(weirdValue),
    runs: 40,
  },
  {
    name: "POST /v1/orders/{id}/refund",
    method: "POST",
    path: () => ids.ord().map((id) => `/v1/orders/${id}/refund`),
    idempotency: true,
    runs: 60,
    body: () => bodyText(mutatedBody(fc.constantFrom<Record<string, unknown>>({ reason: "fuzz" }), [["reason"]])),
  },
];
