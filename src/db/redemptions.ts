/** Reads of the D1 redemption projection. */

export interface RedemptionRef {
  product_id: string;
  shard: number;
  channel_id: string;
}

/** Where a redemption lives (its product shard's SkuPool) and whose it is, or null when unknown. */
export async function redemptionRef(db: D1Database, id: string): Promise<RedemptionRef | null> {
  return db
    .prepare("SELECT product_id, shard, channel_id FROM redemptions WHERE id = ?1")
    .bind(id)
    .first<RedemptionRef>();
}
