/**
 * Background generation for batches too large for one request. The SkuPool's alarm calls
 * `runJob`, which works for a time budget as a two-stage pipeline: while D1 indexes chunk
 * k, this object already generates, seals and stages chunk k+1. Staged codes stay invisible;
 * a chunk counts as done only once D1 confirmed its index rows (codes whose index entry
 * collided with another product are unstaged), and the last chunk publishes the whole batch.
 */

import { completeJobBatch, failBatch, setBatchDone } from "../db/batches";
import { claimIndexes } from "../db/code-index";
import type { CodeRule } from "../domain/code-format";
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
  unstage(batchId: string, indexes: string[]): void;
  publishBatch(ref: PoolRef, batchId: string): { published: number };
  markJob(batchId: string, done: number, status: string, error?: string): void;
}

async function prepare(env: Env, kind: string, rule: CodeRule, count: number) {
  const keys = await codeKeys(requireSecrets(env));
  return {
    keyId: keys.sealKeyId,
    codes: await prepareCodes(keys, await generateCodes(keys, rule, count, kind === "card")),
  };
}

/**
 * Generates `count` codes and stores them staged, indexed in D1 first (so the index is a
 * superset of stored codes). Codes that collide with an existing index entry are dropped.
 * Returns how many were stored. Used for batches small enough to finish inside a request.
 */
export async function generateInto(
  env: Env,
  host: Pick<JobHost, "loadCodes">,
  ref: PoolRef,
  batchId: string,
  kind: string,
  rule: CodeRule,
  count: number,
): Promise<number> {
  const { keyId, codes } = await prepare(env, kind, rule, count);
  const claimed = await claimIndexes(env.DB, { productId: ref.productId, shard: ref.shard, batchId }, codes);
  return (
    await host.loadCodes(
      ref,
      batchId,
      keyId,
      codes.filter((c) => claimed.has(c.idx)),
    )
  ).inserted;
}

const failures = new Map<string, number>();

/** Advances a job for about `budgetMs`; three failed rounds in a row fail it. */
export async function runJob(env: Env, ref: PoolRef, job: JobRow, host: JobHost, budgetMs: number): Promise<void> {
  const rule = JSON.parse(job.rule) as CodeRule;
  const target = { productId: ref.productId, shard: ref.shard, batchId: job.batch_id };
  const deadline = Date.now() + budgetMs;
  let done = job.done;
  let inFlight: Promise<number> | null = null;
  let inFlightCount = 0;
  // Staged but not yet confirmed in D1: dropped if this round fails, so they can never be published.
  const unconfirmed = new Set<string>();
  try {
    while (Date.now() < deadline && done + inFlightCount < job.total) {
      // Let requests waiting for this object (issues, redemptions) in between chunks.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const { keyId, codes } = await prepare(
        env,
        job.kind,
        rule,
        Math.min(JOB_CHUNK, job.total - done - inFlightCount),
      );
      // Staging is local and synchronous; the D1 round trip of this chunk overlaps the next chunk's crypto.
      const { inserted } = await host.loadCodes(ref, job.batch_id, keyId, codes);
      for (const c of codes) unconfirmed.add(c.idx);
      if (inFlight) done += await inFlight;
      inFlightCount = inserted;
      inFlight = claimIndexes(env.DB, target, codes).then((claimed) => {
        const lost = codes.filter((c) => !claimed.has(c.idx)).map((c) => c.idx);
        if (lost.length) host.unstage(job.batch_id, lost);
        for (const c of codes) unconfirmed.delete(c.idx);
        return inserted - lost.length;
      });
    }
    if (inFlight) done += await inFlight;
    failures.delete(job.batch_id);
  } catch (err) {
    if (inFlight) await inFlight.catch(() => undefined);
    host.unstage(job.batch_id, [...unconfirmed]);
    const n = (failures.get(job.batch_id) ?? 0) + 1;
    failures.set(job.batch_id, n);
    if (n >= 3) {
      host.markJob(job.batch_id, done, "failed", err instanceof Error ? err.message.slice(0, 200) : "unknown");
      await failBatch(env.DB, job.batch_id, "generation failed");
      return;
    }
  }
  if (done >= job.total) {
    host.publishBatch(ref, job.batch_id);
    host.markJob(job.batch_id, done, "completed");
    await completeJobBatch(env.DB, job.batch_id, done, Date.now());
  } else {
    host.markJob(job.batch_id, done, "running");
    await setBatchDone(env.DB, job.batch_id, done);
  }
}
