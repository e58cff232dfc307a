/**
 * The hosted order page's two calls: `POST /v1/public/orders/lookup` (status, items, masked codes and the
 * timeline, by the order token or by order number + look-up password) and `POST /v1/public/orders/reveal`
 * (the codes, by the token; the first reveal is the timeline's `revealed` step). Tokens travel in bodies,
 * never in URLs. Wrong passwords count against the caller's failure budget like wrong codes.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { indexedCodes } from "../db/code-index";
import { markRevealed, orderAccessOf } from "../db/order-access";
import { getProducts } from "../db/products";
import { orderTimeline } from "../domain/order-timeline";
import { ORDER_STATUSES } from "../domain/orders";
import { auditPublicReveal } from "../lib/audit";
import { ORDER_TOKEN, orderToken, readOrderToken } from "../lib/checkout-secrets";
import { indexesOf } from "../lib/code-lookup";
import type { AppEnv } from "../lib/context";
import { conflict, notFound } from "../lib/errors";
import { publicSecurity } from "../lib/public-routes";
import { validationHook } from "../lib/validation";
import { channelAccount } from "../objects/channel-account";
import { assertNotLocked, countFailure, guardPlan } from "../security/failure-budget";
import { verifyPassword } from "../security/sessions";
import { commonErrors, errorResponses, json, jsonBody } from "./schemas";

export const orderPageApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Checkout"];

const Token = z.string().max(120).regex(ORDER_TOKEN, "not an order token");
const LookupBody = z
  .union([
    z.object({ token: Token }).strict(),
    z.object({ order_id: z.string().regex(/^ord_[a-z0-9]{1,40}$/), password: z.string().min(1).max(128) }).strict(),
  ])
  .openapi("OrderLookup");

const TimelineEntry = z.object({
  step: z.enum(["paid", "issued", "revealed", "redeemed", "expired", "refunded", "cancelled", "failed"]),
  state: z.enum(["done", "pending"]),
  at: z.string().nullable(),
  count: z.number().optional(),
  of: z.number().optional(),
});

const OrderPage = z
  .object({
    object: z.literal("order_page"),
    order_id: z.string(),
    status: z.enum(ORDER_STATUSES),
    amount: z.number(),
    currency: z.string(),
    created_at: z.string(),
    token: z.string(),
    items: z.array(
      z.object({
        product_id: z.string(),
        product_name: z.string().nullable(),
        quantity: z.number(),
        unit_price: z.number(),
      }),
    ),
    codes: z.array(z.object({ last4: z.string(), status: z.string(), expires_at: z.string().nullable() })),
    timeline: z.array(TimelineEntry),
  })
  .openapi("OrderPage");

const OrderCodes = z
  .object({
    object: z.literal("order_codes"),
    order_id: z.string(),
    items: z.array(
      z.object({
        product_id: z.string(),
        codes: z.array(z.object({ code: z.string(), pin: z.string().optional(), expires_at: z.string().nullable() })),
      }),
    ),
  })
  .openapi("OrderCodes");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const unknownOrder = () => notFound("order");

/** The order a look-up names, after the token or the password checks out. */
async function authorize(c: Context<AppEnv>, body: z.infer<typeof LookupBody>) {
  if ("token" in body) {
    const orderId = await readOrderToken(c.env, body.token);
    const access = orderId ? await orderAccessOf(c.env.DB, orderId) : null;
    if (!access) throw unknownOrder();
    return { access, token: body.token };
  }
  const plan = guardPlan(c.env, null, c.req.header("cf-connecting-ip") ?? "unknown");
  await assertNotLocked(c.env, plan);
  const access = await orderAccessOf(c.env.DB, body.order_id);
  // Always one PBKDF2 (a dummy hash for unknown orders), so timing does not tell which order numbers exist.
  const valid = await verifyPassword(body.password, access?.password_hash ?? null);
  if (!access?.password_hash || !valid) {
    await countFailure(c.env, plan);
    throw unknownOrder();
  }
  return { access, token: await orderToken(c.env, access.order_id) };
}

async function loadOrder(env: Env, channelId: string, orderId: string, withCodes: boolean) {
  const account = channelAccount(env, channelId);
  const { checkout, refund } = await account.checkoutOf(orderId);
  const found = checkout ? await account.getOrder(orderId, withCodes) : null;
  if (!checkout || !found) throw unknownOrder();
  return { checkout, refund, ...found };
}

orderPageApp.openapi(
  createRoute({
    method: "post",
    path: "/public/orders/lookup",
    tags,
    security: publicSecurity("POST /v1/public/orders/lookup"),
    summary: "A consumer's order: status, timeline and masked codes (order token, or order number + password)",
    request: { body: jsonBody(LookupBody) },
    responses: { 200: json(OrderPage, "The order"), ...commonErrors },
  }),
  async (c) => {
    const { access, token } = await authorize(c, c.req.valid("json"));
    const { order, checkout, refund, codes: issued } = await loadOrder(c.env, access.channel_id, access.order_id, true);
    // The code index rows by key (the codes stay on the server): no scan of the index by order.
    const plain = Object.values(issued ?? {}).flatMap((line) => line.map((k) => k.code));
    const [codes, products] = await Promise.all([
      indexesOf(c.env, plain).then((indexes) => indexedCodes(c.env.DB, indexes)),
      getProducts(
        c.env.DB,
        order.lines.map((l) => l.product_id),
      ),
    ]);
    const paid = checkout.paid ? (JSON.parse(checkout.paid) as { at?: number }) : null;
    const timeline = orderTimeline({
      status: order.status,
      updated_at: order.updated_at,
      paid: paid !== null,
      paid_at: paid?.at ?? null,
      revealed_at: access.revealed_at,
      refunded_after_issue: refund?.was_fulfilled ?? false,
      codes,
      quantity: order.lines.reduce((n, l) => n + l.quantity, 0),
      now: Date.now(),
    });
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        object: "order_page" as const,
        order_id: order.id,
        status: order.status,
        amount: order.total_amount,
        currency: order.currency,
        created_at: new Date(order.created_at).toISOString(),
        token,
        items: order.lines.map((l) => ({
          product_id: l.product_id,
          product_name: products.get(l.product_id)?.name ?? null,
          quantity: l.quantity,
          unit_price: l.unit_price,
        })),
        codes: codes.map((k) => ({ last4: k.last4, status: k.status, expires_at: iso(k.expires_at) })),
        timeline: timeline.map((t) => ({ ...t, at: iso(t.at) })),
      },
      200,
    );
  },
);

orderPageApp.openapi(
  createRoute({
    method: "post",
    path: "/public/orders/reveal",
    tags,
    security: publicSecurity("POST /v1/public/orders/reveal"),
    summary: "A consumer's codes, once the order is fulfilled (order token)",
    request: { body: jsonBody(z.object({ token: Token }).strict()) },
    responses: { 200: json(OrderCodes, "The codes"), ...commonErrors, ...errorResponses(409) },
  }),
  async (c) => {
    const { access } = await authorize(c, c.req.valid("json"));
    const { order, codes } = await loadOrder(c.env, access.channel_id, access.order_id, true);
    if (order.status !== "fulfilled" || codes === null)
      throw conflict("not_fulfilled", `the order is ${order.status}: codes are shown once it is paid and issued`);
    const now = Date.now();
    await markRevealed(c.env.DB, order.id, now);
    // Reveals are audited like GET /v1/orders/{id}; never the codes themselves.
    auditPublicReveal(c, {
      action: "POST /v1/public/orders/reveal",
      orderId: order.id,
      keyId: null,
      channelId: access.channel_id,
      at: now,
    });
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        object: "order_codes" as const,
        order_id: order.id,
        items: order.lines.map((l, i) => ({ product_id: l.product_id, codes: codes[i] ?? [] })),
      },
      200,
    );
  },
);
