/** /v1/products: create, read, list, change, and stock (read from the SkuPools, the truth). */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { enabledProductIds } from "../db/channels";
import {
  getProduct,
  getProducts,
  insertProduct,
  listProducts,
  type Product,
  type ProductRow,
  recentStockAlerts,
  updateProduct,
} from "../db/products";
import { newId } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { notFound, unprocessable } from "../lib/errors";
import { resolvePrices } from "../lib/prices";
import { validationHook } from "../lib/validation";
import { skuPool } from "../objects/sku-pool";
import type { Auth } from "../security/auth";
import { requireRoot, requireScope } from "../security/auth";
import { ProductCreate, ProductListQuery, ProductPatch, ProductSchema, StockSchema } from "./product-schemas";
import { commonErrors, errorResponses, idParam, json, jsonBody, listOf, PageQuery, page } from "./schemas";

export const productsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const ProductId = idParam("prd");
const tags = ["Products"];

productsApp.openapi(
  createRoute({
    method: "post",
    path: "/products",
    tags,
    summary: "Create a product",
    request: { body: jsonBody(ProductCreate) },
    responses: { 201: json(ProductSchema, "The product"), ...commonErrors, ...errorResponses(422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:write");
    requireRoot(auth);
    const body = c.req.valid("json");
    if (body.claim_url_template && body.kind !== "link")
      throw unprocessable("claim_url_only_for_links", "claim_url_template applies to link products only");
    const now = Date.now();
    const row: ProductRow = {
      id: newId("prd", now),
      name: body.name,
      description: body.description ?? null,
      kind: body.kind,
      face_value: body.face_value ?? null,
      price: body.price,
      currency: body.currency,
      validity: JSON.stringify(body.validity),
      per_order_max: body.limits.per_order_max ?? null,
      per_customer_max: body.limits.per_customer_max ?? null,
      per_customer_window_days: body.limits.per_customer_window_days ?? null,
      reversal_window_hours: body.reversal_window_hours ?? Number(c.env.REDEMPTION_REVERSAL_WINDOW_HOURS ?? 24),
      claim_url_template: body.claim_url_template ?? null,
      shards: body.shards,
      status: body.status,
      metadata: body.metadata ? JSON.stringify(body.metadata) : null,
      created_at: now,
      updated_at: now,
    };
    await insertProduct(c.env.DB, row);
    return c.json((await getProduct(c.env.DB, row.id))!, 201);
  },
);

productsApp.openapi(
  createRoute({
    method: "get",
    path: "/products",
    tags,
    summary: "List products",
    request: { query: PageQuery.merge(ProductListQuery) },
    responses: { 200: json(listOf(ProductSchema, "ProductList"), "A page of products"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:read");
    const q = c.req.valid("query");
    if (auth.root) return c.json(page(await listProducts(c.env.DB, q), q.limit), 200);
    // A channel's pool is small next to the catalog: resolve it whole, then filter and page.
    const pool = await channelPool(c.env.DB, auth, await enabledProductIds(c.env.DB, auth.channelId));
    const rows = [...pool.values()]
      .filter(
        (p) =>
          (!q.status || p.status === q.status) &&
          (!q.kind || p.kind === q.kind) &&
          (!q.q || p.name.toLowerCase().includes(q.q.toLowerCase())),
      )
      .filter((p) => !q.cursor || p.id > q.cursor)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, q.limit + 1);
    return c.json(page(rows, q.limit), 200);
  },
);

productsApp.openapi(
  createRoute({
    method: "get",
    path: "/products/{id}",
    tags,
    summary: "Read a product",
    request: { params: ProductId },
    responses: { 200: json(ProductSchema, "The product"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:read");
    const product = await visibleProduct(c.env.DB, auth, c.req.valid("param").id);
    return c.json(product, 200);
  },
);

productsApp.openapi(
  createRoute({
    method: "patch",
    path: "/products/{id}",
    tags,
    summary: "Change a product",
    request: { params: ProductId, body: jsonBody(ProductPatch) },
    responses: { 200: json(ProductSchema, "The product"), ...commonErrors, ...errorResponses(422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:write");
    requireRoot(auth);
    const id = c.req.valid("param").id;
    const body = c.req.valid("json");
    const current = await getProduct(c.env.DB, id);
    if (!current) throw notFound("product");
    if (current.status === "archived" && body.status && body.status !== "archived")
      throw unprocessable("product_archived", "an archived product cannot be reactivated");
    if (body.claim_url_template && current.kind !== "link")
      throw unprocessable("claim_url_only_for_links", "claim_url_template applies to link products only");
    const changes: Partial<ProductRow> = { updated_at: Date.now() };
    for (const key of [
      "name",
      "description",
      "face_value",
      "price",
      "reversal_window_hours",
      "claim_url_template",
      "status",
    ] as const) {
      if (body[key] !== undefined) (changes as Record<string, unknown>)[key] = body[key];
    }
    if (body.validity) changes.validity = JSON.stringify(body.validity);
    if (body.metadata !== undefined) changes.metadata = body.metadata ? JSON.stringify(body.metadata) : null;
    if (body.limits) {
      const merged = { ...current.limits, ...body.limits };
      changes.per_order_max = merged.per_order_max ?? null;
      changes.per_customer_max = merged.per_customer_max ?? null;
      changes.per_customer_window_days = merged.per_customer_window_days ?? null;
    }
    return c.json((await updateProduct(c.env.DB, id, changes))!, 200);
  },
);

productsApp.openapi(
  createRoute({
    method: "get",
    path: "/products/{id}/stock",
    tags,
    summary: "Stock of a product, counted in its SkuPools",
    request: { params: ProductId },
    responses: { 200: json(StockSchema, "Stock"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:read");
    const product = await visibleProduct(c.env.DB, auth, c.req.valid("param").id);
    const quotas = await Promise.all(
      Array.from({ length: product.shards }, (_, shard) =>
        skuPool(c.env, { productId: product.id, shard }).allocations({ productId: product.id, shard }, auth.path),
      ),
    );
    const allocations = new Map<
      string,
      { channel_id: string; quota: number; low_water: number | null; refill: number | null }
    >();
    for (const a of quotas.flatMap((v) => v.allocations)) {
      const seen = allocations.get(a.channel_id);
      allocations.set(a.channel_id, seen ? { ...seen, quota: seen.quota + a.quota } : { ...a });
    }
    const shards = await Promise.all(
      Array.from({ length: product.shards }, (_, shard) =>
        skuPool(c.env, { productId: product.id, shard }).stock({ productId: product.id, shard }),
      ),
    );
    // Merchant-wide counts are the merchant's: a channel sees its subtree's quotas only.
    const sum = (k: "total" | "available" | "held" | "issued" | "redeemed" | "voided" | "unallocated") =>
      auth.root ? shards.reduce((s, x) => s + x[k], 0) : null;
    return c.json(
      {
        product_id: product.id,
        total: sum("total"),
        available: sum("available"),
        held: sum("held"),
        issued: sum("issued"),
        redeemed: sum("redeemed"),
        voided: sum("voided"),
        unallocated: auth.root ? Math.max(0, sum("unallocated")!) : null,
        allocations: [...allocations.values()],
        shards: auth.root ? shards.map((s, shard) => ({ shard, available: s.available, total: s.total })) : [],
        alerts: await recentAlerts(c.env.DB, product.id, auth.path),
      },
      200,
    );
  },
);

/** The products a channel may sell, each with the channel's effective price as `price`. */
async function channelPool(db: D1Database, auth: Auth, ids: string[]): Promise<Map<string, Product>> {
  const products = await getProducts(db, ids);
  const prices = await resolvePrices(db, auth, products);
  const out = new Map<string, Product>();
  for (const [id, p] of products) if (prices.has(id)) out.set(id, { ...p, price: prices.get(id)! });
  return out;
}

/** A product the caller may see: any for the root; for a channel, only its pool (others answer 404 like unknown ids). */
async function visibleProduct(db: D1Database, auth: Auth, id: string): Promise<Product> {
  const product = auth.root ? await getProduct(db, id) : (await channelPool(db, auth, [id])).get(id);
  if (!product) throw notFound("product");
  return product;
}

async function recentAlerts(db: D1Database, productId: string, path: string) {
  const results = await recentStockAlerts(db, productId, path);
  return results.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() }));
}
