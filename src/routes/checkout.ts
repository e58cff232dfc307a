/**
 * Consumer checkout with a publishable key (pk_…, origin allow-list): create an order in
 * `pending_payment` that holds its codes, then read its status (and, once paid, its codes)
 * with the order's client secret. Payment itself happens at the gateway; its notice lands on
 * /v1/public/payments/{gateway}/notify (routes/payment-notify.ts).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { suspendedOnPath } from "../db/channels";
import { recordOrderAccess } from "../db/order-access";
import { recordCheckoutOrder } from "../db/orders";
import { getProducts } from "../db/products";
import { ORDER_STATUSES, type OrderLineSpec } from "../domain/orders";
import { sellLine } from "../domain/sellability";
import { gateways, missingSecret } from "../gateways/registry";
import { GATEWAYS } from "../gateways/types";
import { auditPublicReveal } from "../lib/audit";
import { clientSecret, holdTtlMs, orderToken } from "../lib/checkout-secrets";
import type { AppEnv } from "../lib/context";
import { conflict, notFound, unprocessable } from "../lib/errors";
import { resolvePrices } from "../lib/prices";
import { publicSecurity } from "../lib/public-routes";
import { requirePublishableKey } from "../lib/publishable-keys";
import { channelSuspended, saleRefusalError } from "../lib/sale-errors";
import { validationHook } from "../lib/validation";
import { channelAccount } from "../objects/channel-account";
import { sha256Hex, timingSafeEqual } from "../security/primitives";
import { publicRateLimit } from "../security/rate-limit";
import { hashPassword } from "../security/sessions";
import { commonErrors, errorResponses, IdempotencyKey, json, jsonBody } from "./schemas";

export const checkoutApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Checkout"];

// Authentication first, like the rest of the API (requireAuth, then the limiter); then the per-IP public limit.
checkoutApp.use("/checkout", requirePublishableKey, publicRateLimit);
checkoutApp.use("/checkout/*", requirePublishableKey, publicRateLimit);

const CheckoutCreate = z
  .object({
    items: z
      .array(
        z
          .object({ product_id: z.string().regex(/^prd_[a-z0-9]{1,40}$/), quantity: z.number().int().min(1).max(100) })
          .strict(),
      )
      .min(1)
      .max(10),
    gateway: z.enum(GATEWAYS),
    customer_ref: z.string().trim().min(1).max(200).optional(),
    return_url: z
      .string()
      .url()
      .max(500)
      .regex(/^https?:\/\//)
      .optional(),
    lookup_password: z.string().min(8).max(128).optional().openapi({
      description:
        "Lets the buyer find the order again on the hosted order page with the order number and this password",
    }),
  })
  .strict()
  .refine(
    (o) => new Set(o.items.map((i) => i.product_id)).size === o.items.length,
    "each product appears once in items",
  )
  .openapi("CheckoutCreate");

const CheckoutSchema = z
  .object({
    order_id: z.string(),
    object: z.literal("checkout"),
    status: z.enum(ORDER_STATUSES),
    amount: z.number(),
    currency: z.string(),
    expires_at: z.string(),
    client_secret: z.string().optional(),
    order_token: z.string().optional().openapi({
      description:
        "Opens this order's hosted page (/order/#t=…): status, timeline, codes. Single-purpose, expires in 30 days",
    }),
    payment: z.record(z.string(), z.unknown()),
    items: z.array(
      z.object({
        product_id: z.string(),
        quantity: z.number(),
        unit_price: z.number(),
        codes: z
          .array(z.object({ code: z.string(), pin: z.string().optional(), expires_at: z.string().nullable() }))
          .optional(),
      }),
    ),
  })
  .openapi("Checkout");

checkoutApp.openapi(
  createRoute({
    method: "post",
    path: "/checkout",
    tags,
    security: publicSecurity("POST /v1/checkout"),
    summary: "Start a consumer checkout (publishable key): the order holds its codes until paid",
    request: {
      headers: z.object({
        "idempotency-key": IdempotencyKey,
      }),
      body: jsonBody(CheckoutCreate),
    },
    responses: { 201: json(CheckoutSchema, "Waiting for payment"), ...commonErrors, ...errorResponses(409, 410, 422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const missing = missingSecret(c.env, body.gateway);
    if (missing || (body.gateway === "sandbox" && (c.env.ENVIRONMENT as string) === "production")) {
      throw unprocessable(
        "gateway_not_configured",
        `the ${body.gateway} gateway is not configured${missing ? ` (secret ${missing} is not set)` : ""}`,
      );
    }
    const ids = body.items.map((i) => i.product_id);
    const [products, suspended] = await Promise.all([
      getProducts(c.env.DB, ids),
      auth.root ? false : suspendedOnPath(c.env.DB, auth.path),
    ]);
    if (suspended) throw channelSuspended();
    const prices = await resolvePrices(c.env.DB, auth, products);
    const now = Date.now();
    const lines: OrderLineSpec[] = [];
    for (const item of body.items) {
      const p = products.get(item.product_id);
      const context = { now, currency: lines[0]?.currency ?? null, topupAllowed: false };
      const verdict = sellLine(item, p, p ? prices.get(p.id) : undefined, context);
      if (!verdict.ok) throw saleRefusalError(verdict.refusal);
      lines.push(verdict.line);
    }
    // The look-up password stays out of the stored request hash (a fast hash of a password is a guessable copy).
    const { lookup_password, ...hashed } = body;
    const requestHash = await sha256Hex(JSON.stringify(hashed));
    const result = await channelAccount(c.env, auth.channelId).beginCheckout({
      channelId: auth.channelId,
      idempotencyKey: key,
      requestHash,
      customerRef: body.customer_ref ?? null,
      lines,
      gateway: body.gateway,
      ttlMs: holdTtlMs(c.env),
    });
    if (!result.ok) {
      if (result.reason === "idempotency_mismatch")
        throw conflict("idempotency_mismatch", "this Idempotency-Key was used with a different request body");
      if (result.reason === "per_customer_limit")
        throw unprocessable(
          "per_customer_limit",
          `this customer may buy at most ${result.limit} of ${result.product_id}`,
          { product_id: result.product_id, limit: result.limit },
        );
      throw conflict(
        result.reason,
        `not enough ${result.reason === "quota_exceeded" ? "quota" : "stock"} of ${result.product_id}`,
        { product_id: result.product_id, order_id: result.order_id },
      );
    }
    const { order, checkout } = result;
    // The notice endpoint finds the order's channel here; written before the buyer can pay.
    await recordCheckoutOrder(c.env.DB, {
      order_id: order.id,
      channel_id: order.channel_id,
      gateway: checkout.gateway,
      payment_id: checkout.payment_id,
      created_at: order.created_at,
    });
    await recordOrderAccess(c.env.DB, {
      order_id: order.id,
      channel_id: order.channel_id,
      // Hashed on replays too: a first attempt that died before this write must not leave the order without it.
      password_hash: lookup_password ? await hashPassword(lookup_password) : null,
      created_at: order.created_at,
    });
    // Only an order still waiting for payment gets pay parameters: a replay after payment (or after the hold
    // expired) must not ask the gateway again, which would refuse an order it has already settled.
    const params =
      order.status !== "pending_payment"
        ? {}
        : await gateways[checkout.gateway].createPayment(
            {
              order_id: order.id,
              payment_id: checkout.payment_id,
              amount: order.total_amount,
              currency: order.currency,
              description: `Order ${order.id}`,
              return_url: body.return_url ?? null,
              notify_url: `${new URL(c.req.url).origin}/v1/public/payments/${checkout.gateway}/notify`,
              payer_ip: c.req.header("cf-connecting-ip") ?? null,
            },
            c.env,
          );
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        order_id: order.id,
        object: "checkout" as const,
        status: order.status,
        amount: order.total_amount,
        currency: order.currency,
        expires_at: new Date(checkout.expires_at).toISOString(),
        client_secret: await clientSecret(c.env, order.id),
        order_token: await orderToken(c.env, order.id),
        payment: { gateway: checkout.gateway, payment_id: checkout.payment_id, ...params },
        items: order.lines.map((l) => ({ product_id: l.product_id, quantity: l.quantity, unit_price: l.unit_price })),
      },
      201,
    );
  },
);

checkoutApp.openapi(
  createRoute({
    method: "get",
    path: "/checkout/{order_id}",
    tags,
    security: publicSecurity("GET /v1/checkout/{order_id}"),
    summary: "A checkout's status; its codes once paid (publishable key and the order's client secret)",
    request: {
      params: z.object({ order_id: z.string().regex(/^ord_[a-z0-9]{1,40}$/) }),
      query: z.object({ client_secret: z.string().min(10).max(200) }),
    },
    responses: { 200: json(CheckoutSchema, "The checkout"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    const { order_id } = c.req.valid("param");
    // A wrong secret answers like an unknown order: ids cannot be probed.
    if (!timingSafeEqual(c.req.valid("query").client_secret, await clientSecret(c.env, order_id)))
      throw notFound("checkout");
    const account = channelAccount(c.env, auth.channelId);
    const { checkout } = await account.checkoutOf(order_id);
    const found = checkout ? await account.getOrder(order_id) : null;
    if (!checkout || !found) throw notFound("checkout");
    const { order, codes } = found;
    const revealed = order.status === "fulfilled" && codes !== null;
    if (revealed) {
      // Code reveals are audited like GET /v1/orders/{id}; never the codes themselves.
      auditPublicReveal(c, {
        action: "GET /v1/checkout/{order_id}",
        orderId: order_id,
        keyId: auth.keyId,
        channelId: auth.channelId,
      });
    }
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        order_id,
        object: "checkout" as const,
        status: order.status,
        amount: order.total_amount,
        currency: order.currency,
        expires_at: new Date(checkout.expires_at).toISOString(),
        payment: { gateway: checkout.gateway, payment_id: checkout.payment_id, paid: checkout.paid !== null },
        items: order.lines.map((l, i) => ({
          product_id: l.product_id,
          quantity: l.quantity,
          unit_price: l.unit_price,
          ...(revealed ? { codes: codes![i] ?? [] } : {}),
        })),
      },
      200,
    );
  },
);
