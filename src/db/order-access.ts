/** D1 `order_access`: the hosted pages' look-up password hash and first-reveal time per checkout order. */

export interface OrderAccessRow {
  order_id: string;
  channel_id: string;
  password_hash: string | null;
  revealed_at: number | null;
  created_at: number;
}

/** Written with the checkout; a replay keeps the first row (and its password). */
export async function recordOrderAccess(db: D1Database, row: Omit<OrderAccessRow, "revealed_at">): Promise<void> {
  await db
    .prepare(
      "INSERT OR IGNORE INTO order_access (order_id, channel_id, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .bind(row.order_id, row.channel_id, row.password_hash, row.created_at)
    .run();
}

export async function orderAccessOf(db: D1Database, orderId: string): Promise<OrderAccessRow | null> {
  return db.prepare("SELECT * FROM order_access WHERE order_id = ?1").bind(orderId).first<OrderAccessRow>();
}

/** Stamps the first reveal only; later reveals keep it. */
export async function markRevealed(db: D1Database, orderId: string, at: number): Promise<void> {
  await db
    .prepare("UPDATE order_access SET revealed_at = COALESCE(revealed_at, ?2) WHERE order_id = ?1")
    .bind(orderId, at)
    .run();
}
