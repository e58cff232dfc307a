/**
 * Channel quotas of one SkuPool. Quota is virtual: the pool's available codes are one
 * stock, and each channel holds a count it may still sell. Unallocated = available − Σ quota,
 * which the root sells from and gives out. All functions are synchronous over the pool's SQL,
 * so a move, a sale and a refill are each one serialized step: no quota goes below zero,
 * and quotas never exceed stock.
 *
 * Table `allocations`:
 *   channel_id   PRIMARY KEY
 *   parent_id    where refills come from: the parent's quota, or unallocated when the parent is the root
 *   path         the channel's materialised path, to show a caller only its subtree
 *   quota        ≥ 0
 *   low_water, refill   replenishment rule (both null: none)
 *   low_alerted  1 after stock.low was emitted for the current crossing
 */
import { ROOT_CHANNEL_ID } from "../domain/ids";
import { recordEvent } from "./outbox";

export const ALLOCATIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS allocations (
  channel_id TEXT PRIMARY KEY,
  parent_id TEXT NOT NULL,
  path TEXT NOT NULL,
  quota INTEGER NOT NULL CHECK (quota >= 0),
  low_water INTEGER,
  refill INTEGER,
  low_alerted INTEGER NOT NULL DEFAULT 0
);`;

export interface ChannelRef {
  id: string;
  parentId: string;
  path: string;
}

type AllocationRow = {
  channel_id: string;
  parent_id: string;
  path: string;
  quota: number;
  low_water: number | null;
  refill: number | null;
  low_alerted: number;
};

export function allocation(sql: SqlStorage, channelId: string): AllocationRow | null {
  return sql.exec<AllocationRow>("SELECT * FROM allocations WHERE channel_id = ?", channelId).toArray()[0] ?? null;
}

/** Exact unallocated stock: counts every available code, so only for views, not hot paths. */
export function unallocated(sql: SqlStorage): number {
  return sql
    .exec<{ n: number }>(
      `SELECT (SELECT COUNT(*) FROM codes WHERE status = 'available') - (SELECT COALESCE(SUM(quota), 0)
        FROM allocations) AS n`,
    )
    .one().n;
}

/**
 * Unallocated stock, counted no further than `atLeast` above the quotas: a sale or a move
 * needs to know "is there enough", and that costs O(quotas + n) instead of O(stock).
 */
export function unallocatedUpTo(sql: SqlStorage, atLeast: number): number {
  const quotas = sql.exec<{ q: number }>("SELECT COALESCE(SUM(quota), 0) AS q FROM allocations").one().q;
  const available = sql
    .exec<{ n: number }>(
      "SELECT COUNT(*) AS n FROM (SELECT 1 FROM codes WHERE status = 'available' LIMIT ?)",
      quotas + atLeast,
    )
    .one().n;
  return available - quotas;
}

function ensureRow(sql: SqlStorage, ch: ChannelRef): void {
  sql.exec(
    "INSERT OR IGNORE INTO allocations (channel_id, parent_id, path, quota) VALUES (?, ?, ?, 0)",
    ch.id,
    ch.parentId,
    ch.path,
  );
}

function addQuota(sql: SqlStorage, channelId: string, delta: number): void {
  sql.exec("UPDATE allocations SET quota = quota + ? WHERE channel_id = ?", delta, channelId);
}

/** What `channelId` may sell now: its quota, or unallocated stock for the root. */
export function sellable(sql: SqlStorage, channelId: string): number {
  return channelId === ROOT_CHANNEL_ID ? unallocatedUpTo(sql, 1_000) : (allocation(sql, channelId)?.quota ?? 0);
}

export type MoveResult =
  | { ok: true; quota: number; source_quota: number | null; unallocated: number }
  | { ok: false; reason: "insufficient_quota"; available: number };

/**
 * Moves quota between a parent and its direct child (`quantity` < 0 gives it back).
 * The root's side is unallocated stock.
 */
export function moveQuota(
  sql: SqlStorage,
  source: string,
  child: ChannelRef,
  quantity: number,
  productId: string,
): MoveResult {
  ensureRow(sql, child);
  const fromRoot = child.parentId === ROOT_CHANNEL_ID;
  const giver = quantity > 0 ? (fromRoot ? null : child.parentId) : child.id;
  const have = giver === null ? unallocatedUpTo(sql, Math.abs(quantity)) : (allocation(sql, giver)?.quota ?? 0);
  if (have < Math.abs(quantity)) return { ok: false, reason: "insufficient_quota", available: Math.max(0, have) };
  addQuota(sql, child.id, quantity);
  if (!fromRoot) addQuota(sql, child.parentId, -quantity);
  const row = allocation(sql, child.id)!;
  if (row.low_water !== null && row.quota >= row.low_water)
    sql.exec("UPDATE allocations SET low_alerted = 0 WHERE channel_id = ?", child.id);
  recordEvent(sql, source, "stock.allocated", {
    product_id: productId,
    channel_id: child.id,
    from: child.parentId,
    quantity,
    quota: row.quota,
  });
  return {
    ok: true,
    quota: row.quota,
    source_quota: fromRoot ? null : (allocation(sql, child.parentId)?.quota ?? 0),
    unallocated: unallocated(sql),
  };
}

export function configureReplenishment(
  sql: SqlStorage,
  ch: ChannelRef,
  lowWater: number | null,
  refill: number | null,
): void {
  ensureRow(sql, ch);
  sql.exec(
    "UPDATE allocations SET low_water = ?, refill = ?, low_alerted = 0 WHERE channel_id = ?",
    lowWater,
    refill,
    ch.id,
  );
}

/** Takes `quantity` from what the channel may sell; false when it has not enough. */
export function consumeQuota(sql: SqlStorage, channelId: string, quantity: number): boolean {
  if (channelId === ROOT_CHANNEL_ID) return unallocatedUpTo(sql, quantity) >= quantity;
  const row = allocation(sql, channelId);
  if (!row || row.quota < quantity) return false;
  addQuota(sql, channelId, -quantity);
  return true;
}

/** Gives quota back when issued codes return to the shelf (a failed order). */
export function restoreQuota(sql: SqlStorage, channelId: string, quantity: number): void {
  if (channelId !== ROOT_CHANNEL_ID && allocation(sql, channelId)) addQuota(sql, channelId, quantity);
}

/**
 * After a sale: below the low-water mark, refill from the source when it has enough
 * (`stock.refilled`), else raise `stock.low` once per crossing. A refill taken from a
 * parent's quota may push the parent below its own mark, so the check climbs the tree.
 */
export function replenish(
  sql: SqlStorage,
  source: string,
  productId: string,
  channelId: string,
  now = Date.now(),
): void {
  for (let id: string | null = channelId, hops = 0; id && id !== ROOT_CHANNEL_ID && hops < 8; hops++) {
    const row: AllocationRow | null = allocation(sql, id);
    if (!row || row.low_water === null || row.quota >= row.low_water) return;
    const fromRoot: boolean = row.parent_id === ROOT_CHANNEL_ID;
    const refill = row.refill ?? 0;
    const sourceHas = fromRoot
      ? unallocatedUpTo(sql, Math.max(refill, 1))
      : (allocation(sql, row.parent_id)?.quota ?? 0);
    if (refill > 0 && sourceHas >= refill) {
      addQuota(sql, id, refill);
      if (!fromRoot) addQuota(sql, row.parent_id, -refill);
      const quota = row.quota + refill;
      sql.exec(
        "UPDATE allocations SET low_alerted = ? WHERE channel_id = ?",
        quota >= row.low_water ? 0 : row.low_alerted,
        id,
      );
      recordEvent(
        sql,
        source,
        "stock.refilled",
        { product_id: productId, channel_id: id, from: row.parent_id, quantity: refill, quota },
        now,
      );
      id = fromRoot ? null : row.parent_id;
    } else {
      if (!row.low_alerted) {
        sql.exec("UPDATE allocations SET low_alerted = 1 WHERE channel_id = ?", id);
        recordEvent(
          sql,
          source,
          "stock.low",
          {
            product_id: productId,
            channel_id: id,
            quota: row.quota,
            low_water: row.low_water,
            source_available: sourceHas,
          },
          now,
        );
      }
      return;
    }
  }
}

export function allocationsUnder(
  sql: SqlStorage,
  path: string,
): { channel_id: string; quota: number; low_water: number | null; refill: number | null }[] {
  return sql
    .exec<{ channel_id: string; quota: number; low_water: number | null; refill: number | null }>(
      `SELECT channel_id, quota, low_water, refill FROM allocations WHERE substr(path, 1, length(?)) = ?
        ORDER BY channel_id`,
      path,
      path,
    )
    .toArray();
}
