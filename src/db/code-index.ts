/**
 * The code index in D1: blind index → product and shard, so a redemption finds its
 * SkuPool with one primary-key read. It is written before codes enter a pool, so it
 * is always a superset of the stored codes (an entry without a code answers "not found").
 */
import type { PreparedCode } from "../objects/sku-pool.schema";

/** Keeps each bound JSON value around 100 KB, well inside D1's limits. */
const CHUNK = 1500;

export interface IndexTarget {
  productId: string;
  shard: number;
  batchId: string;
}

/**
 * Inserts index rows and returns the blind indexes that were new. Rows that already
 * exist (any product) are not claimed; the caller decides whether that is an error.
 */
export async function claimIndexes(
  db: D1Database,
  target: IndexTarget,
  codes: PreparedCode[],
  now = Date.now(),
): Promise<Set<string>> {
  const claimed = new Set<string>();
  if (codes.length === 0) return claimed; // D1 refuses an empty batch
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < codes.length; i += CHUNK) {
    const rows = codes.slice(i, i + CHUNK).map((c) => [c.idx, c.last4]);
    statements.push(
      db
        .prepare(
          `INSERT INTO code_index (blind_index, product_id, shard, batch_id, last4, status, created_at)
           SELECT json_extract(value, '$[0]'), ?1, ?2, ?3, json_extract(value, '$[1]'), 'available', ?4 FROM json_each(?5)
           WHERE true ON CONFLICT (blind_index) DO NOTHING RETURNING blind_index`,
        )
        .bind(target.productId, target.shard, target.batchId, now, JSON.stringify(rows)),
    );
  }
  for (const result of await db.batch<{ blind_index: string }>(statements)) {
    for (const row of result.results) claimed.add(row.blind_index);
  }
  return claimed;
}

/** Which of these blind indexes are already known, in any product. */
export async function existingIndexes(db: D1Database, indexes: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < indexes.length; i += CHUNK * 2) {
    statements.push(
      db
        .prepare("SELECT blind_index FROM code_index WHERE blind_index IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(indexes.slice(i, i + CHUNK * 2))),
    );
  }
  if (statements.length === 0) return found;
  for (const result of await db.batch<{ blind_index: string }>(statements)) {
    for (const row of result.results) found.add(row.blind_index);
  }
  return found;
}

export async function releaseIndexes(db: D1Database, batchId: string): Promise<void> {
  await db.prepare("DELETE FROM code_index WHERE batch_id = ?1").bind(batchId).run();
}

export async function lookupIndex(
  db: D1Database,
  index: string,
): Promise<{ product_id: string; shard: number } | null> {
  return db.prepare("SELECT product_id, shard FROM code_index WHERE blind_index = ?1").bind(index).first();
}

export interface CodeSearch {
  last4?: string;
  order_id?: string;
  status?: string;
  product_id?: string;
  /** blind index to continue after */
  after?: string;
  limit: number;
}

export interface IndexedCode {
  blind_index: string;
  product_id: string;
  shard: number;
  last4: string;
  status: string;
  order_id: string | null;
  channel_id: string | null;
  expires_at: number | null;
  issued_at: number | null;
  redeemed_at: number | null;
}

/** Support look-up over the code index (never the code): by last 4, order, status or product, `limit + 1` rows. */
export async function searchCodes(db: D1Database, q: CodeSearch): Promise<IndexedCode[]> {
  const where: string[] = ["status != 'staged'"];
  const binds: unknown[] = [];
  for (const f of ["last4", "order_id", "status", "product_id"] as const) {
    if (q[f] === undefined) continue;
    binds.push(q[f]);
    where.push(`${f} = ?${binds.length}`);
  }
  if (q.after) {
    binds.push(q.after);
    where.push(`blind_index > ?${binds.length}`);
  }
  binds.push(q.limit + 1);
  const { results } = await db
    .prepare(
      `SELECT blind_index, product_id, shard, last4, status, order_id, channel_id, expires_at, issued_at, redeemed_at
       FROM code_index WHERE ${where.join(" AND ")} ORDER BY blind_index LIMIT ?${binds.length}`,
    )
    .bind(...binds)
    .all<IndexedCode>();
  return results;
}

/** One indexed code by its blind index, or null. */
export async function indexedCode(db: D1Database, index: string): Promise<IndexedCode | null> {
  return db
    .prepare(
      "SELECT blind_index, product_id, shard, last4, status, order_id, channel_id, expires_at, issued_at, redeemed_at FROM code_index WHERE blind_index = ?1",
    )
    .bind(index)
    .first<IndexedCode>();
}

/** Indexed codes by blind index (primary-key reads, 100 per statement, one batch). */
export async function indexedCodes(db: D1Database, indexes: string[]): Promise<IndexedCode[]> {
  if (indexes.length === 0) return [];
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < indexes.length; i += 100) {
    const part = indexes.slice(i, i + 100);
    statements.push(
      db
        .prepare(
          `SELECT blind_index, product_id, shard, last4, status, order_id, channel_id, expires_at, issued_at, redeemed_at
           FROM code_index WHERE blind_index IN (${part.map((_, j) => `?${j + 1}`).join(", ")})`,
        )
        .bind(...part),
    );
  }
  return (await db.batch<IndexedCode>(statements)).flatMap((r) => r.results);
}
