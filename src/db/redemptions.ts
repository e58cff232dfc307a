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

export interface RedemptionFilter {
  channel_id?: string;
  product_id?: string;
  order_id?: string;
  from?: number;
  to?: number;
  cursor?: string;
  limit: number;
}

const IN_SUBTREE = "channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?1)) = ?1)";

function where(scopePath: string, q: RedemptionFilter, fields: readonly string[], time: string) {
  const clauses = [IN_SUBTREE];
  const binds: unknown[] = [scopePath];
  const add = (sql: string, v: unknown) => {
    binds.push(v);
    clauses.push(sql.replace("?", `?${binds.length}`));
  };
  for (const f of fields) {
    const v = q[f as keyof RedemptionFilter];
    if (v !== undefined) add(`${f} = ?`, v);
  }
  if (q.from !== undefined) add(`${time} >= ?`, q.from);
  if (q.to !== undefined) add(`${time} < ?`, q.to);
  if (q.cursor) add("id < ?", q.cursor);
  binds.push(q.limit + 1);
  return { sql: clauses.join(" AND "), binds, limit: `?${binds.length}` };
}

/** Redemptions made in the subtree at `scopePath` (by the channel that redeemed), newest first, `limit + 1` rows. */
export async function listRedemptions(db: D1Database, scopePath: string, q: RedemptionFilter) {
  const w = where(scopePath, q, ["channel_id", "product_id", "order_id"], "redeemed_at");
  const { results } = await db
    .prepare(
      `SELECT id, product_id, channel_id, order_id, last4, redeemer, redeemed_at, reversed_at FROM redemptions
       WHERE ${w.sql} ORDER BY id DESC LIMIT ${w.limit}`,
    )
    .bind(...w.binds)
    .all<{
      id: string;
      product_id: string;
      channel_id: string;
      order_id: string | null;
      last4: string | null;
      redeemer: string | null;
      redeemed_at: number;
      reversed_at: number | null;
    }>();
  return results;
}

/** Failed verify / redeem attempts of the subtree (never the code, never the address), newest first. */
export async function listRedemptionAttempts(db: D1Database, scopePath: string, q: RedemptionFilter) {
  const w = where(scopePath, q, ["channel_id", "product_id"], "created_at");
  const { results } = await db
    .prepare(
      `SELECT id, action, result, product_id, channel_id, created_at FROM redemption_attempts
       WHERE ${w.sql} ORDER BY id DESC LIMIT ${w.limit}`,
    )
    .bind(...w.binds)
    .all<{
      id: string;
      action: string;
      result: string;
      product_id: string | null;
      channel_id: string;
      created_at: number;
    }>();
  return results;
}

/** How many redemptions (or, `failed`, failed attempts) of the subtree match a filter (an export's total). */
export async function countRedemptionLog(
  db: D1Database,
  scopePath: string,
  failed: boolean,
  q: Omit<RedemptionFilter, "limit" | "cursor">,
) {
  const w = failed
    ? where(scopePath, { ...q, limit: 0 }, ["channel_id", "product_id"], "created_at")
    : where(scopePath, { ...q, limit: 0 }, ["channel_id", "product_id", "order_id"], "redeemed_at");
  const row = await db
    .prepare(`SELECT COUNT(*) AS n FROM ${failed ? "redemption_attempts" : "redemptions"} WHERE ${w.sql}`)
    .bind(...w.binds.slice(0, -1))
    .first<{ n: number }>();
  return row?.n ?? 0;
}
