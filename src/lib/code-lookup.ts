/**
 * From a typed code to its SkuPool: normalise, reject a wrong check at the edge (no
 * storage touched), compute the blind index and PIN hash, then one D1 primary-key read.
 */

import { lookupIndex } from "../db/code-index";
import { normalizeCode, normalizePin } from "../domain/code-format";
import type { PoolRef } from "../objects/sku-pool";
import { codeKeys, lookupKey, pinHash } from "../security/code-crypto";
import { requireSecrets } from "../security/secrets";

export type Lookup =
  | { found: true; ref: PoolRef; index: string; pinHash: string | null }
  | { found: false; stage: "format" | "check" | "index" };

export async function lookupCode(env: Env, typed: string, pin: string | null | undefined): Promise<Lookup> {
  const normalized = normalizeCode(typed);
  if (!/^[0-9A-Z]{4,64}$/.test(normalized)) return { found: false, stage: "format" };
  const keys = await codeKeys(requireSecrets(env));
  const { ok, index } = await lookupKey(keys, normalized);
  if (!ok) return { found: false, stage: "check" };
  const hit = await lookupIndex(env.DB, index);
  if (!hit) return { found: false, stage: "index" };
  const hash = pin ? await pinHash(keys, index, normalizePin(pin)) : null;
  return { found: true, ref: { productId: hit.product_id, shard: hit.shard }, index, pinHash: hash };
}

/** The blind indexes of codes the server holds in plaintext (an order's codes): to read their index rows by key. */
export async function indexesOf(env: Env, codes: string[]): Promise<string[]> {
  const keys = await codeKeys(requireSecrets(env));
  return Promise.all(codes.map(async (code) => (await lookupKey(keys, normalizeCode(code))).index));
}
