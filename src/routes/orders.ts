/** /v1/orders: place an order (idempotent), read one with its codes, list the channel's orders. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { suspendedOnPath } from "../db/channels";
import { listOrders, projectedOrderInSubtree } from "../db/orders";
import { getProducts } from "../db/products";
import { ORDER_STATUSES, type OrderLineSpec } from "../domain/orders";
import { sellLine } from "../domain/sellability";
import { isTopupOrder } from "../domain/topup";
import type { AppEnv } from "../lib/context";
import { ApiError, conflict, notFound, unprocessable } from "../lib/errors";
import { resolvePrices } from "../lib/prices";
import { channelSuspended, saleRefusalError } from "../lib/sale-errors";
import { validationHook } from "../lib/validation";
import { abuseGuard } from "../objects/abuse-guard";
import { channelAccount, type OrderResult } from "../objects/channel-account";
import { providerConfig } from "../providers/topup-provider";
import { requireScope } from "../security/auth";
import { sha256Hex } from "../security/primitives";
import { sessionOf } from "../security/sessions";
import { IdempotencyHeader, OrderCreate, OrderSchema, orderView } from "./order-schemas";
import { commonErrors, errorResponses, IsoDate, idParam, json, jsonBody, listOf, PageQuery, page } from "./schemas";

export const ordersApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Orders"];

/** Top-up items: one per order, quantity 1, with an account; the provider must be configured. */
function topupProblem(
  env: Env,
  kind: string,
  item: { quantity: number; account?: string },
  items: number,
): ApiError | null {
  if (kind !== "topup") return unprocessable("account_not_allowed", "account is only for topup products");
  if (item.account === undefined) return unprocessable("account_required", "topup items need the account to recharge");
  if (items !== 1 || item.quantity !== 1)
    return unprocessable("topup_single_item", "a topup order holds one item of quantity 1");
  const config = providerConfig(env);
  return config.ok ? null : new ApiError(503, "misconfigured", `top-ups need ${config.missing}`);
}

function refusal(result: Exclude<OrderResult, { ok: true }>): ApiError {
  switch (result.reason) {
    case "idempotency_mismatch":
      return conflict("idempotency_mismatch", "this Idempotency-Key was used with a different request body");
    case "per_customer_limit":
      return unprocessable(
        "per_customer_limit",
        `this customer may buy at most ${result.limit} of ${result.product_id}`,
        { product_id: result.product_id, limit: result.limit },
      );
    case "insufficient_balance":
      return conflict("insufficient_balance", "the channel's balance and credit do not cover this order", {
        available: result.available,
      });
    case "currency_mismatch":
      return unprocessable("currency_mismatch", `the channel's balance is in ${result.currency}`, {
        currency: result.currency,
      });
    case "quota_exceeded":
      return conflict("quota_exceeded", `the channel's quota of ${result.product_id} is too small`, {
        product_id: result.product_id,
        available: result.available,
        ...(result.order ? { order_id: result.order.id } : {}),
      });
    default:
      return conflict("out_of_stock", `not enough stock of ${result.product_id}`, {
        product_id: result.product_id,
        available: result.available,
        ...(result.order ? { order_id: result.order.id } : {}),
      });
  }
}

ordersApp.openapi(
  createRoute({
    method: "post",
    path: "/orders",
    tags,
    summary: "Place an order and receive its codes",
    request: { headers: IdempotencyHeader, body: jsonBody(OrderCreate) },
    responses: {
      201: json(OrderSchema, "Fulfilled, with codes"),
      202: json(OrderSchema, "A topup order, processing at the provider (see docs/topup.md)"),
      ...commonErrors,
      ...errorResponses(409, 422),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:write");
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const requestHash = await sha256Hex(JSON.stringify(body));
    const account = channelAccount(c.env, auth.channelId);
    const ids = body.items.map((i) => i.product_id);
    // The root cannot be suspended: its orders skip that read.
    const [products, suspended] = await Promise.all([
      getProducts(c.env.DB, ids),
      auth.root ? false : suspendedOnPath(c.env.DB, auth.path),
    ]);
    const prices = await resolvePrices(c.env.DB, auth, products);
    const now = Date.now();
    const lines: OrderLineSpec[] = [];
    let problem: ApiError | null = null;
    for (const item of body.items) {
      const p = products.get(item.product_id);
      const context = { now, currency: lines[0]?.currency ?? null, topupAllowed: true };
      const verdict = sellLine(item, p, p ? prices.get(p.id) : undefined, context);
      if (suspended) problem = channelSuspended();
      else if (!verdict.ok) problem = saleRefusalError(verdict.refusal);
      else if (p!.kind === "topup" || item.account !== undefined)
        problem = topupProblem(c.env, p!.kind, item, body.items.length);
      if (problem || !verdict.ok) break;
      const topup = { account: item.account!, sku: p!.metadata?.provider_sku ?? p!.id, face_value: p!.face_value };
      lines.push({ ...verdict.line, ...(p!.kind === "topup" ? { topup } : {}) });
    }
    // A retry of an order that once succeeded still gets its original answer, even if the catalog changed since.
    const result = problem
      ? await account.replay(key, requestHash)
      : await account.placeOrder({
          channelId: auth.channelId,
          paysFromBalance: !auth.root,
          idempotencyKey: key,
          requestHash,
          customerRef: body.customer_ref ?? null,
          externalRef: body.external_ref ?? null,
          lines,
        });
    if (!result) throw problem!;
    if (!result.ok) throw refusal(result);
    const urls = new Map([...products.values()].map((p) => [p.id, p.claim_url_template]));
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    if (isTopupOrder(result.order.lines)) return c.json(orderView(result.order, null, urls), 202);
    return c.json(orderView(result.order, result.codes, urls), 201);
  },
);

ordersApp.openapi(
  createRoute({
    method: "get",
    path: "/orders/{id}",
    tags,
    summary: "An order of the caller's subtree; codes only for the channel that ordered",
    request: { params: idParam("ord") },
    responses: { 200: json(OrderSchema, "The order"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const id = c.req.valid("param").id;
    // The caller's own orders come from its ChannelAccount at once; a descendant's are found through the projection.
    let found = await channelAccount(c.env, auth.channelId).getOrder(id);
    if (!found) {
      const row = await projectedOrderInSubtree(c.env.DB, id, auth.path);
      found = row ? await channelAccount(c.env, row.channel_id).getOrder(id, false) : null;
    }
    if (!found) throw notFound("order");
    // A console session never receives codes here, even for its own channel's orders: staff see an order's
    // lines and status; codes stay with the API key that bought them (docs/console.md, "Codes").
    if (sessionOf(auth)) found = { ...found, codes: null };
    // Revealing codes can be capped per key (anti-scraping): counted exactly, per hour.
    if (found.codes && auth.limits?.revealsPerHour) {
      const taken = await abuseGuard(c.env, `key:${auth.keyId}`).take(
        `reveal:${auth.keyId}`,
        auth.limits.revealsPerHour,
        3_600_000,
      );
      if (!taken.ok)
        throw new ApiError(
          429,
          "reveal_limit",
          "this key has revealed as many orders' codes as it may this hour",
          undefined,
          { "Retry-After": String(Math.ceil(taken.retryAfterMs / 1000)) },
        );
    }
    const products = await getProducts(
      c.env.DB,
      found.order.lines.map((l) => l.product_id),
    );
    const urls = new Map([...products.values()].map((p) => [p.id, p.claim_url_template]));
    c.header("Cache-Control", "no-store");
    return c.json(orderView(found.order, found.codes, urls, found.topup), 200);
  },
);

/** The order list's filters (also an export's, src/routes/exports.ts). */
export const OrderListFilter = z.object({
  status: z.enum(ORDER_STATUSES).optional(),
  channel_id: z
    .string()
    .regex(/^chn_[a-z0-9]{1,40}$/)
    .optional(),
  customer_ref: z.string().max(200).optional(),
  external_ref: z.string().max(200).optional(),
  product_id: z
    .string()
    .regex(/^prd_[a-z0-9]{1,40}$/)
    .optional(),
  from: IsoDate.optional().openapi({ description: "Created at or after" }),
  to: IsoDate.optional().openapi({ description: "Created before" }),
});
const OrderListQuery = PageQuery.extend(OrderListFilter.shape);

ordersApp.openapi(
  createRoute({
    method: "get",
    path: "/orders",
    tags,
    summary: "Orders of the caller's subtree (from the D1 projection, newest first)",
    request: { query: OrderListQuery },
    responses: { 200: json(listOf(OrderSchema, "OrderList"), "A page of orders"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const q = c.req.valid("query");
    // The caller's whole subtree, through the channel paths.
    const data = await listOrders(c.env.DB, auth.path, {
      ...q,
      from: q.from ? Date.parse(q.from) : undefined,
      to: q.to ? Date.parse(q.to) : undefined,
    });
    return c.json(page(data, q.limit), 200);
  },
);
