/** Which channel an order belongs to, from the D1 projections: the key to its ChannelAccount. */

/** The channel of an order (or checkout order) if it lies in the subtree at `scopePath`; otherwise null. */
export async function orderChannelInSubtree(
  db: D1Database,
  orderId: string,
  scopePath: string,
): Promise<{ channel_id: string } | null> {
  return db
    .prepare(
      `SELECT x.channel_id FROM (SELECT channel_id FROM orders WHERE id = ?1 UNION SELECT channel_id FROM checkout_orders WHERE order_id = ?1) x
     JOIN channels ch ON ch.id = x.channel_id WHERE substr(ch.path, 1, length(?2)) = ?2 LIMIT 1`,
    )
    .bind(orderId, scopePath)
    .first<{ channel_id: string }>();
}

/** The channel of a projected order, or null while it is not projected (or unknown). */
export async function projectedOrderChannel(db: D1Database, orderId: string): Promise<{ channel_id: string } | null> {
  return db.prepare("SELECT channel_id FROM orders WHERE id = ?1").bind(orderId).first<{ channel_id: string }>();
}
