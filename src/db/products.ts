/** Product catalog queries (drizzle over D1) and the row ↔ API shape mapping. */
import { and, eq, gt, type SQL, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { PurchaseLimits } from "../domain/limits";
import type { Validity } from "../domain/validity";
import { products } from "./schema";

export type ProductRow = typeof products.$inferSelect;

export interface Product {
  id: string;
  object: "product";
  name: string;
  kind: "code" | "card" | "link" | "topup";
  description: string | null;
  face_value: number | null;
  price: number;
  currency: string;
  validity: Validity;
  limits: PurchaseLimits;
  reversal_window_hours: number;
  claim_url_template: string | null;
  shards: number;
  status: "draft" | "active" | "paused" | "archived";
  metadata: Record<string, string> | null;
  created_at: string;
  updated_at: string;
}

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    object: "product",
    name: row.name,
    kind: row.kind as Product["kind"],
    description: row.description,
    face_value: row.face_value,
    price: row.price,
    currency: row.currency,
    validity: JSON.parse(row.validity) as Validity,
    limits: {
      per_order_max: row.per_order_max,
      per_customer_max: row.per_customer_max,
      per_customer_window_days: row.per_customer_window_days,
    },
    reversal_window_hours: row.reversal_window_hours,
    claim_url_template: row.claim_url_template,
    shards: row.shards,
    status: row.status as Product["status"],
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, string>) : null,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export async function insertProduct(d1: D1Database, row: ProductRow): Promise<void> {
  await drizzle(d1).insert(products).values(row);
}

export async function getProduct(d1: D1Database, id: string): Promise<Product | null> {
  const row = await drizzle(d1).select().from(products).where(eq(products.id, id)).get();
  return row ? toProduct(row) : null;
}

export async function getProducts(d1: D1Database, ids: string[]): Promise<Map<string, Product>> {
  const out = new Map<string, Product>();
  await Promise.all(
    ids.map(async (id) => {
      const p = await getProduct(d1, id);
      if (p) out.set(id, p);
    }),
  );
  return out;
}

export async function updateProduct(d1: D1Database, id: string, changes: Partial<ProductRow>): Promise<Product | null> {
  const row = await drizzle(d1).update(products).set(changes).where(eq(products.id, id)).returning().get();
  return row ? toProduct(row) : null;
}

/** Keyset pagination on the sortable id: each page is an index range scan, however deep. */
export async function listProducts(
  d1: D1Database,
  filter: { status?: string; kind?: string; q?: string; cursor?: string; limit: number },
): Promise<Product[]> {
  const where: SQL[] = [];
  if (filter.status) where.push(eq(products.status, filter.status));
  if (filter.kind) where.push(eq(products.kind, filter.kind));
  if (filter.q) where.push(sql`instr(lower(${products.name}), lower(${filter.q})) > 0`);
  if (filter.cursor) where.push(gt(products.id, filter.cursor));
  const rows = await drizzle(d1)
    .select()
    .from(products)
    .where(where.length ? and(...where) : undefined)
    .orderBy(products.id)
    .limit(filter.limit + 1)
    .all();
  return rows.map(toProduct);
}

/** Every product with its shard count, by id: the SkuPools a catalog-wide job must visit. */
export async function listProductShards(d1: D1Database): Promise<{ id: string; shards: number }[]> {
  return (await d1.prepare("SELECT id, shards FROM products ORDER BY id").all<{ id: string; shards: number }>())
    .results;
}

/** A product's shard count, or null when there is no such product. */
export async function productShards(d1: D1Database, id: string): Promise<number | null> {
  const row = await d1.prepare("SELECT shards FROM products WHERE id = ?1").bind(id).first<{ shards: number }>();
  return row?.shards ?? null;
}

export interface StockAlertRow {
  type: "stock.low" | "stock.refilled";
  channel_id: string;
  quantity: number | null;
  quota: number;
  created_at: number;
}

/** The last 10 stock alerts of a product in the subtree at `path`, newest first. */
export async function recentStockAlerts(d1: D1Database, productId: string, path: string): Promise<StockAlertRow[]> {
  const { results } = await d1
    .prepare(
      `SELECT e.type, e.channel_id, e.quantity, e.quota, e.created_at FROM stock_events e JOIN channels ch ON ch.id = e.channel_id
       WHERE e.product_id = ?1 AND substr(ch.path, 1, length(?2)) = ?2 ORDER BY e.created_at DESC LIMIT 10`,
    )
    .bind(productId, path)
    .all<StockAlertRow>();
  return results;
}
