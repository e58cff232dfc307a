/**
 * Batches of codes on D1 (one row per generation or import): written by src/lib/batches.ts during the request and
 * by a SkuPool's job runner (src/objects/sku-pool-jobs.ts) for background generation.
 */

export interface BatchRow {
  id: string;
  product_id: string;
  source: string;
  status: string;
  total: number;
  done: number;
  error: string | null;
  created_at: number;
  completed_at: number | null;
}

/** A batch by id, or null. */
export async function getBatchRow(db: D1Database, id: string): Promise<BatchRow | null> {
  return db.prepare("SELECT * FROM batches WHERE id = ?1").bind(id).first<BatchRow>();
}

/** Inserts a running batch with nothing done yet. */
export async function insertBatch(
  db: D1Database,
  b: { id: string; productId: string; source: string; total: number; createdAt: number },
): Promise<void> {
  await db
    .prepare(
      "INSERT INTO batches (id, product_id, source, status, total, done, created_at) VALUES (?1, ?2, ?3, 'running', ?4, 0, ?5)",
    )
    .bind(b.id, b.productId, b.source, b.total, b.createdAt)
    .run();
}

/** Marks a batch completed with `done` codes (generated inline or imported). */
export async function completeBatch(db: D1Database, id: string, done: number, now: number): Promise<void> {
  await db
    .prepare("UPDATE batches SET status = 'completed', done = ?1, completed_at = ?2 WHERE id = ?3")
    .bind(done, now, id)
    .run();
}

/** Marks a batch failed with a short error code. */
export async function failBatch(db: D1Database, id: string, error: string): Promise<void> {
  await db.prepare("UPDATE batches SET status = 'failed', error = ?1 WHERE id = ?2").bind(error, id).run();
}

/** Marks a background job's batch completed with `done` codes. */
export async function completeJobBatch(db: D1Database, id: string, done: number, now: number): Promise<void> {
  await db
    .prepare("UPDATE batches SET done = ?1, status = 'completed', completed_at = ?2 WHERE id = ?3")
    .bind(done, now, id)
    .run();
}

/** Records a running background job's progress. */
export async function setBatchDone(db: D1Database, id: string, done: number): Promise<void> {
  await db.prepare("UPDATE batches SET done = ?1 WHERE id = ?2").bind(done, id).run();
}

/** A product's batches, newest first (`limit + 1` rows, so the caller can tell there are more). */
export async function listProductBatches(
  db: D1Database,
  productId: string,
  cursor: string | undefined,
  limit: number,
): Promise<BatchRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM batches WHERE product_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3")
    .bind(productId, cursor ?? null, limit + 1)
    .all<BatchRow>();
  return results;
}
