/** Redemptions and failed redemption attempts on D1 (the events projection completes the redemption rows). */

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

/** Records a redemption at once, so a reversal can find its pool (a second insert of the same id is ignored). */
export async function insertRedemption(
  db: D1Database,
  r: {
    id: string;
    productId: string;
    shard: number;
    channelId: string;
    last4: string;
    redeemer: string | null;
    redeemedAt: number;
  },
): Promise<void> {
  await db
    .prepare(
      "INSERT OR IGNORE INTO redemptions (id, product_id, shard, channel_id, last4, redeemer, redeemed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(r.id, r.productId, r.shard, r.channelId, r.last4, r.redeemer, r.redeemedAt)
    .run();
}

/** Records a failed verify or redeem: what and by whom, never the code. */
export async function insertRedemptionAttempt(
  db: D1Database,
  a: {
    id: string;
    action: string;
    result: string;
    productId: string | null;
    channelId: string;
    ip: string | null;
    createdAt: number;
  },
): Promise<void> {
  await db
    .prepare(
      "INSERT INTO redemption_attempts (id, action, result, product_id, channel_id, ip, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(a.id, a.action, a.result, a.productId, a.channelId, a.ip, a.createdAt)
    .run();
}
