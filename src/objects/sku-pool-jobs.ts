/**
 * Background generation for batches too large for one request: the SkuPool's alarm
 * calls `runJobChunk` repeatedly; each call generates, seals, indexes and stages one
 * chunk, and the last one publishes the whole batch at once.
 */
import type { CodeRule } from "../domain/code-format";
import { claimIndexes } from "../db/code-index";
import { codeKeys } from "../security/code-crypto";
import { generateCodes, prepareCodes } from "../security/code-sealer";
import { requireSecrets } from "../security/secrets";
import type { PoolRef } from "./sku-pool";
import type { PreparedCode } from "./sku-pool.schema";

export const JOB_CHUNK = 5_000;

export type JobRow = {
  batch_id: string;
  kind: string;
  rule: string;
  total: number;
  done: number;
  status: string;
};

export interface LoadResult {
  inserted: number;
  duplicates: string[];
}

export interface JobHost {
  loadCodes(ref: PoolRef, batchId: string, keyId: string, codes: PreparedCode[]): LoadResult | Promise<LoadResult>;
  publishBatch(ref: PoolRef, batchId: string): { published: number };
  markJob(batchId: string, done: number, status: string, error?: string): void;
}

/**
 * Generates `count` codes and stores them staged: indexed in D1 first (so the index is
 * a superset of stored codes), then in the pool. Codes that collide with an existing
 * index entry are dropped and made up for on the next round. Returns how many were stored.
 */
export async function generateInto(env: Env, host: Pick<JobHost, "loadCodes">, ref: PoolRef, batchId: string, kind: string, rule: CodeRule, count: number): Promise<number> {
  const keys = await codeKeys(requireSecrets(env));
  const plain = await generateCodes(keys, rule, count, kind === "card");
  const prepared = await prepareCodes(keys, plain);
  const claimed = await claimIndexes(env.DB, { productId: ref.productId, shard: ref.shard, batchId }, prepared);
  const fresh = prepared.filter((c) => claimed.has(c.idx));
  return (await host.loadCodes(ref, batchId, keys.sealKeyId, fresh)).inserted;
}

export async function runJobChunk(env: Env, ref: PoolRef, job: JobRow, host: JobHost): Promise<void> {
  try {
    const count = Math.min(JOB_CHUNK, job.total - job.done);
    const stored = count > 0 ? await generateInto(env, host, ref, job.batch_id, job.kind, JSON.parse(job.rule) as CodeRule, count) : 0;
    const done = job.done + stored;
    if (done >= job.total) {
      host.publishBatch(ref, job.batch_id);
      host.markJob(job.batch_id, done, "completed");
      await env.DB.prepare("UPDATE batches SET done = ?1, status = 'completed', completed_at = ?2 WHERE id = ?3").bind(done, Date.now(), job.batch_id).run();
    } else {
      host.markJob(job.batch_id, done, "running");
      await env.DB.prepare("UPDATE batches SET done = ?1 WHERE id = ?2").bind(done, job.batch_id).run();
    }
  } catch (err) {
    // A failed chunk is retried by the next alarm; three failures in a row fail the job.
    const failures = (failuresByBatch.get(job.batch_id) ?? 0) + 1;
    failuresByBatch.set(job.batch_id, failures);
    if (failures >= 3) {
      host.markJob(job.batch_id, job.done, "failed", String(err));
      await env.DB.prepare("UPDATE batches SET status = 'failed', error = ?1 WHERE id = ?2").bind("generation failed", job.batch_id).run();
    }
  }
}

const failuresByBatch = new Map<string, number>();
