/**
 * A batch's codes inside one SkuPool: staged while the batch loads (invisible to sales), then
 * published in one step so a batch is all-or-nothing, or discarded. Synchronous over the pool's SQL.
 */
import { codeTransition } from "../domain/code-state";
import { recordEvent } from "./outbox";
import type { PreparedCode } from "./sku-pool.schema";
import { changed } from "./sku-pool-issue";

const PUBLISH = codeTransition("publish");

/** Stages codes of a loading batch. Duplicates inside the product are skipped and returned. */
export function loadCodes(
  sql: SqlStorage,
  batchId: string,
  keyId: string,
  codes: PreparedCode[],
): { inserted: number; duplicates: string[] } {
  const rows = JSON.stringify(codes.map((c) => [c.idx, c.sealed, c.last4, c.pin_hash]));
  const duplicates = sql
    .exec<{ idx: string }>(
      "SELECT idx FROM codes WHERE idx IN (SELECT json_extract(value, '$[0]') FROM json_each(?))",
      rows,
    )
    .toArray()
    .map((r) => r.idx);
  const inserted = changed(
    sql,
    sql.exec(
      `INSERT INTO codes (idx, sealed, key_id, last4, pin_hash, batch_id, status)
       SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?,
              json_extract(value, '$[2]'), json_extract(value, '$[3]'), ?, 'staged'
       FROM json_each(?) WHERE true ON CONFLICT (idx) DO NOTHING`,
      keyId,
      batchId,
      rows,
    ),
  );
  return { inserted, duplicates };
}

/** Makes a batch's staged codes available in one step; records `batch.published` when any were. */
export function publishBatch(
  sql: SqlStorage,
  source: string,
  ref: { productId: string; shard: number },
  batchId: string,
): number {
  const published = changed(
    sql,
    sql.exec(`UPDATE codes SET ${PUBLISH.set} WHERE batch_id = ? AND ${PUBLISH.guard}`, batchId),
  );
  if (published > 0)
    recordEvent(sql, source, "batch.published", {
      product_id: ref.productId,
      shard: ref.shard,
      batch_id: batchId,
      count: published,
    });
  return published;
}

/** Drops staged codes of a batch whose index entries were not confirmed (called by the job runner). */
export function unstage(sql: SqlStorage, batchId: string, indexes: string[]): void {
  sql.exec(
    "DELETE FROM codes WHERE batch_id = ? AND status = 'staged' AND idx IN (SELECT value FROM json_each(?))",
    batchId,
    JSON.stringify(indexes),
  );
}

export function discardBatch(sql: SqlStorage, batchId: string): number {
  return changed(sql, sql.exec("DELETE FROM codes WHERE batch_id = ? AND status = 'staged'", batchId));
}
