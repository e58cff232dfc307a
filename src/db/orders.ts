/** Order projections on D1: lookups and lists for the caller's subtree, and the checkout order index. */
import type { ORDER_STATUSES } from "../domain/orders";

/** The channel of a projected order if it lies in the subtree at `scopePath`; otherwise null. */
export async function projectedOrderInSubtree(
  db: D1Database,
  orderId: string,
  scopePath: string,
): Promise<{ channel_id: string } | null> {
  return db
    .prepare(
      "SELECT o.channel_id FROM orders o JOIN channels ch ON ch.id = o.channel_id WHERE o.id = ?1 AND substr(ch.path, 1, length(?2)) = ?2",
    )
    .bind(orderId, scopePath)
    .first<{ channel_id: string }>();
}

export interface OrderFilter {
  status?: string;
  channel_id?: string;
  customer_ref?: string;
  external_ref?: string;
  product_id?: string;
  /** created_at in [from, to), epoch ms */
  from?: number;
  to?: number;
  cursor?: string;
  limit: number;
}

/** The WHERE clause of a subtree's orders under a filter (without cursor and limit), and its binds. */
function orderWhere(scopePath: string, q: Omit<OrderFilter, "limit">) {
  const where = ["channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?1)) = ?1)"];
  const binds: unknown[] = [scopePath];
  for (const field of ["status", "channel_id", "customer_ref", "external_ref"] as const) {
    if (q[field]) {
      binds.push(q[field]);
      where.push(`${field} = ?${binds.length}`);
    }
  }
  if (q.product_id) {
    binds.push(q.product_id);
    where.push(`EXISTS (SELECT 1 FROM json_each(items) WHERE json_extract(value, '$.product_id') = ?${binds.length})`);
  }
  if (q.from !== undefined) {
    binds.push(q.from);
    where.push(`created_at >= ?${binds.length}`);
  }
  if (q.to !== undefined) {
    binds.push(q.to);
    where.push(`created_at < ?${binds.length}`);
  }
  if (q.cursor) {
    binds.push(q.cursor);
    where.push(`id < ?${binds.length}`);
  }
  return { sql: where.join(" AND "), binds };
}

/** How many orders of the subtree match a filter (an export's total). */
export async function countOrders(db: D1Database, scopePath: string, q: Omit<OrderFilter, "limit" | "cursor">) {
  const w = orderWhere(scopePath, q);
  const row = await db
    .prepare(`SELECT COUNT(*) AS n FROM orders WHERE ${w.sql}`)
    .bind(...w.binds)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** A page of the subtree's orders, newest first (`limit + 1` rows, so the caller can tell there are more). */
export async function listOrders(db: D1Database, scopePath: string, q: OrderFilter) {
  const w = orderWhere(scopePath, q);
  const { results } = await db
    .prepare(`SELECT * FROM orders WHERE ${w.sql} ORDER BY id DESC LIMIT ?${w.binds.length + 1}`)
    .bind(...w.binds, q.limit + 1)
    .all<Record<string, unknown>>();
  return results.map((r) => ({
    id: r.id as string,
    object: "order" as const,
    channel_id: r.channel_id as string,
    status: r.status as (typeof ORDER_STATUSES)[number],
    customer_ref: r.customer_ref as string | null,
    external_ref: r.external_ref as string | null,
    currency: r.currency as string,
    total_amount: r.total_amount as number,
    failure_reason: r.failure_reason as string | null,
    items: JSON.parse(r.items as string),
    created_at: new Date(r.created_at as number).toISOString(),
    updated_at: new Date(r.updated_at as number).toISOString(),
  }));
}

/** Indexes a checkout order by id, so a gateway notice finds its channel (written before the buyer can pay). */
export async function recordCheckoutOrder(
  db: D1Database,
  o: { order_id: string; channel_id: string; gateway: string; payment_id: string; created_at: number },
): Promise<void> {
  await db
    .prepare(
      "INSERT OR IGNORE INTO checkout_orders (order_id, channel_id, gateway, payment_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(o.order_id, o.channel_id, o.gateway, o.payment_id, o.created_at)
    .run();
}
