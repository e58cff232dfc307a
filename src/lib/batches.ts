/**
 * Adding codes to a product: generation (inline, or as a SkuPool job when large) and
 * all-or-nothing imports. Order of writes: D1 index first, then staged codes in the
 * pools, then one publish per pool, so a failure part-way leaves nothing visible.
 */

import { type BatchRow, completeBatch, failBatch, getBatchRow, insertBatch } from "../db/batches";
import { claimIndexes, existingIndexes, releaseIndexes } from "../db/code-index";
import type { Product } from "../db/products";
import {
  type CodeRule,
  DEFAULT_RULE,
  hasDefaultShape,
  MIN_ENTROPY_BITS,
  normalizeCode,
  ruleEntropyBits,
} from "../domain/code-format";
import { newId } from "../domain/ids";
import { checkImportLines, type ImportLine, type LineError } from "../domain/import-lines";
import { skuPool } from "../objects/sku-pool";
import { generateInto, type LoadResult } from "../objects/sku-pool-jobs";
import { codeKeys, lookupKey } from "../security/code-crypto";
import { prepareCodes } from "../security/code-sealer";
import { requireSecrets } from "../security/secrets";
import { ApiError, conflict, unprocessable } from "./errors";

/** Up to this many generated codes are made during the request; more run as a background job. */
export const INLINE_GENERATE_MAX = 10_000;
const LOAD_CHUNK = 5_000;

export interface BatchView {
  id: string;
  object: "batch";
  product_id: string;
  source: "generate" | "import";
  status: "running" | "completed" | "failed";
  total: number;
  done: number;
  error: string | null;
  created_at: string;
  completed_at: string | null;
}

export function toBatch(row: BatchRow): BatchView {
  return {
    id: row.id,
    object: "batch",
    product_id: row.product_id,
    source: row.source as BatchView["source"],
    status: row.status as BatchView["status"],
    total: row.total,
    done: row.done,
    error: row.error,
    created_at: new Date(row.created_at).toISOString(),
    completed_at: row.completed_at ? new Date(row.completed_at).toISOString() : null,
  };
}

export async function getBatch(db: D1Database, id: string): Promise<BatchView | null> {
  const row = await getBatchRow(db, id);
  return row ? toBatch(row) : null;
}

async function createBatchRow(db: D1Database, product: Product, source: string, total: number): Promise<string> {
  const id = newId("bat");
  await insertBatch(db, { id, productId: product.id, source, total, createdAt: Date.now() });
  return id;
}

function assertHasInventory(product: Product): void {
  if (product.kind === "topup")
    throw unprocessable("no_inventory", "topup products are fulfilled by a provider and hold no codes");
  if (product.status === "archived") throw unprocessable("product_archived", "an archived product takes no new codes");
}

export function resolveRule(partial: Partial<CodeRule>): CodeRule {
  const rule = { ...DEFAULT_RULE, ...partial };
  if (ruleEntropyBits(rule) < MIN_ENTROPY_BITS) {
    throw unprocessable(
      "weak_rule",
      `codes by this rule carry ${ruleEntropyBits(rule).toFixed(1)} random bits; at least ${MIN_ENTROPY_BITS} are required`,
    );
  }
  return rule;
}

/** Splits `total` over the product's shards as evenly as possible. */
function perShard(total: number, shards: number): number[] {
  return Array.from({ length: shards }, (_, s) => Math.floor(total / shards) + (s < total % shards ? 1 : 0));
}

export async function generateBatch(env: Env, product: Product, rule: CodeRule, count: number): Promise<BatchView> {
  assertHasInventory(product);
  const batchId = await createBatchRow(env.DB, product, "generate", count);
  const split = perShard(count, product.shards);
  if (count > INLINE_GENERATE_MAX) {
    await Promise.all(
      split.map(
        (n, shard) =>
          n > 0 &&
          skuPool(env, { productId: product.id, shard }).startJob(
            { productId: product.id, shard },
            { batchId, kind: product.kind, rule, total: n },
          ),
      ),
    );
    return (await getBatch(env.DB, batchId))!;
  }
  let stored = 0;
  for (const [shard, n] of split.entries()) {
    const ref = { productId: product.id, shard };
    const pool = skuPool(env, ref);
    // The pool does the RPC-side work; generation happens here, so a small batch completes within the request.
    let done = 0;
    while (done < n)
      done += await generateInto(
        env,
        { loadCodes: (r, b, k, c) => pool.loadCodes(r, b, k, c) as Promise<LoadResult> },
        ref,
        batchId,
        product.kind,
        rule,
        Math.min(LOAD_CHUNK, n - done),
      );
    await pool.publishBatch(ref, batchId);
    stored += done;
  }
  await completeBatch(env.DB, batchId, stored, Date.now());
  return (await getBatch(env.DB, batchId))!;
}

/** Imports codes all-or-nothing: any bad or duplicate line refuses the whole batch with line numbers. */
export async function importBatch(env: Env, product: Product, lines: ImportLine[], firstLine = 1): Promise<BatchView> {
  assertHasInventory(product);
  if (lines.length === 0) throw unprocessable("empty_import", "the import has no codes");
  const keys = await codeKeys(requireSecrets(env));
  const shaped = [...new Set(lines.map((l) => normalizeCode(l.code.trim())).filter(hasDefaultShape))];
  const checked = new Set<string>();
  await Promise.all(shaped.map(async (n) => (await lookupKey(keys, n)).ok && checked.add(n)));
  const { ok, errors } = checkImportLines(lines, product.kind === "card", (n) => checked.has(n), firstLine);
  const prepared = await prepareCodes(
    keys,
    ok.map((l) => ({ display: l.display, normalized: l.normalized, pin: l.pin })),
  );
  const known = await existingIndexes(
    env.DB,
    prepared.map((p) => p.idx),
  );
  for (const [i, p] of prepared.entries()) {
    if (known.has(p.idx))
      errors.push({ line: ok[i].line, error: "duplicate_existing", message: "this code is already stored" });
  }
  if (errors.length) throw importRefused(errors);

  const batchId = await createBatchRow(env.DB, product, "import", prepared.length);
  const shards = perShard(prepared.length, product.shards);
  const starts = shards.map((_, i) => shards.slice(0, i).reduce((a, b) => a + b, 0));
  const slices = shards.map((n, i) => prepared.slice(starts[i], starts[i] + n));
  try {
    for (const [shard, slice] of slices.entries()) {
      if (slice.length === 0) continue;
      const ref = { productId: product.id, shard };
      const claimed = await claimIndexes(env.DB, { productId: product.id, shard, batchId }, slice);
      if (claimed.size !== slice.length)
        throw conflict(
          "import_conflict",
          "another import stored some of these codes at the same moment; nothing was stored",
        );
      for (let i = 0; i < slice.length; i += LOAD_CHUNK) {
        const { duplicates } = await skuPool(env, ref).loadCodes(
          ref,
          batchId,
          keys.sealKeyId,
          slice.slice(i, i + LOAD_CHUNK),
        );
        if (duplicates.length)
          throw conflict("import_conflict", "some codes are already in this product; nothing was stored");
      }
    }
  } catch (err) {
    await Promise.all(
      slices.map((_, shard) =>
        skuPool(env, { productId: product.id, shard }).discardBatch({ productId: product.id, shard }, batchId),
      ),
    );
    await releaseIndexes(env.DB, batchId);
    await failBatch(env.DB, batchId, err instanceof ApiError ? err.code : "import_failed");
    throw err;
  }
  await Promise.all(
    slices.map((_, shard) =>
      skuPool(env, { productId: product.id, shard }).publishBatch({ productId: product.id, shard }, batchId),
    ),
  );
  await completeBatch(env.DB, batchId, prepared.length, Date.now());
  return (await getBatch(env.DB, batchId))!;
}

function importRefused(errors: LineError[]): ApiError {
  errors.sort((a, b) => a.line - b.line);
  return unprocessable("import_invalid", `${errors.length} line(s) are invalid or duplicate; nothing was stored`, {
    error_count: errors.length,
    errors: errors.slice(0, 100),
  });
}
