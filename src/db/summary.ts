/** Read-only roll-ups of a channel's subtree over the D1 projections, for GET /v1/channels/{id}/summary. */

const SUBTREE = "substr(ch.path, 1, length(?1)) = ?1";
const ORDERS_IN = `FROM orders o JOIN channels ch ON ch.id = o.channel_id WHERE ${SUBTREE} AND o.status = 'fulfilled' AND o.created_at >= ?2 AND o.created_at < ?3`;

export interface SummaryTotals {
  orders: number;
  units: number;
  revenue: number;
}

/** Fulfilled orders of the subtree at `path` created in [from, to): count, units and revenue. */
export async function subtreeTotals(db: D1Database, path: string, from: number, to: number) {
  return db
    .prepare(
      `SELECT COUNT(*) AS orders, COALESCE(SUM(o.quantity), 0) AS units, COALESCE(SUM(o.total_amount), 0) AS revenue ${ORDERS_IN}`,
    )
    .bind(path, from, to)
    .first<SummaryTotals>();
}

/** The same totals per direct child of the channel, each child with its own subtree rolled up. */
export async function childTotals(db: D1Database, channelId: string, from: number, to: number) {
  return db
    .prepare(
      `SELECT k.id AS channel_id, k.name, COUNT(o.id) AS orders, COALESCE(SUM(o.quantity), 0) AS units, COALESCE(SUM(o.total_amount), 0) AS revenue
         FROM channels k LEFT JOIN channels ch ON substr(ch.path, 1, length(k.path)) = k.path
         LEFT JOIN orders o ON o.channel_id = ch.id AND o.status = 'fulfilled' AND o.created_at >= ?2 AND o.created_at < ?3
         WHERE k.parent_id = ?1 GROUP BY k.id ORDER BY k.id`,
    )
    .bind(channelId, from, to)
    .all<SummaryTotals & { channel_id: string; name: string }>();
}

/** Units and revenue of the subtree's fulfilled orders per product (from the orders' items). */
export async function productTotals(db: D1Database, path: string, from: number, to: number) {
  return db
    .prepare(
      `SELECT json_extract(i.value, '$.product_id') AS product_id, SUM(json_extract(i.value, '$.quantity')) AS units, SUM(json_extract(i.value, '$.amount')) AS revenue
         ${ORDERS_IN.replace("FROM orders o", "FROM orders o, json_each(o.items) i")} GROUP BY product_id ORDER BY product_id`,
    )
    .bind(path, from, to)
    .all<{ product_id: string; units: number; revenue: number }>();
}

/** Codes issued to the subtree in [from, to), and how many of them are redeemed (from the code index). */
export async function codeTotals(db: D1Database, path: string, from: number, to: number) {
  return db
    .prepare(
      `SELECT COUNT(*) AS issued, COALESCE(SUM(ci.status = 'redeemed'), 0) AS redeemed FROM code_index ci JOIN channels ch ON ch.id = ci.channel_id
         WHERE ${SUBTREE} AND ci.issued_at >= ?2 AND ci.issued_at < ?3`,
    )
    .bind(path, from, to)
    .first<{ issued: number; redeemed: number }>();
}

/** The root's pool for a summary: its active catalog, first 100 by id. */
export async function activeProductIds(db: D1Database): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT id AS product_id FROM products WHERE status = 'active' ORDER BY id LIMIT 100")
    .all<{ product_id: string }>();
  return results.map((r) => r.product_id);
}

/** A channel's pool for a summary: the products enabled in its price list. */
export async function enabledPoolProductIds(db: D1Database, channelId: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT product_id FROM channel_products WHERE channel_id = ?1 AND enabled = 1 ORDER BY product_id")
    .bind(channelId)
    .all<{ product_id: string }>();
  return results.map((r) => r.product_id);
}
