/**
 * The SkuPool's side of code encryption keys: revealing codes with the key each row names,
 * and the background job that re-encrypts codes still sealed under an old key id.
 *
 * The job lives in the pool's `meta` table under key 'reencrypt':
 *   {"status": "running" | "completed" | "failed", "started_at", "finished_at"?, "reencrypted", "error"?}
 * Each alarm calls `advanceReencrypt`, which takes at most REENCRYPT_CHUNK codes whose key_id is not
 * the current one, opens each with its old key and seals it again under the current key (same
 * associated data: the blind index), then writes the whole chunk in one synchronous statement.
 * Reads keep working throughout, since every row is readable under the key its key_id names.
 * Everything takes the keys as an argument, so tests can drive it with keys they construct.
 */
import { toIso } from "../domain/validity";
import { type CodeKeys, seal, unseal } from "../security/code-crypto";
import { recordEvent } from "./outbox";

export const REENCRYPT_CHUNK = 2_000;
/** Crypto in slices this large, checking the time budget between slices. */
const SLICE = 200;

export interface ReencryptJob {
  status: "running" | "completed" | "failed";
  started_at: number;
  finished_at?: number;
  reencrypted: number;
  error?: string;
}

export interface ReencryptStatus {
  status: "idle" | ReencryptJob["status"];
  current_key_id: string;
  /** Codes still sealed under another key id than the current one. */
  remaining: number;
  reencrypted: number;
  by_key_id: Record<string, number>;
  error: string | null;
}

export interface RevealedCode {
  code: string;
  pin?: string;
  expires_at: string | null;
}

/** The codes of an order line, decrypted with the key each row names. */
export async function revealLine(
  sql: SqlStorage,
  keys: CodeKeys,
  orderId: string,
  line: number,
): Promise<RevealedCode[]> {
  const rows = sql
    .exec<{ idx: string; sealed: string; key_id: string; expires_at: number | null }>(
      "SELECT idx, sealed, key_id, expires_at FROM codes WHERE order_id = ? AND line = ? ORDER BY id",
      orderId,
      line,
    )
    .toArray();
  return Promise.all(
    rows.map(async (r) => {
      const secret = await unseal(keys, r.idx, r.sealed, r.key_id);
      return secret.p === undefined
        ? { code: secret.c, expires_at: toIso(r.expires_at) }
        : { code: secret.c, pin: secret.p, expires_at: toIso(r.expires_at) };
    }),
  );
}

/** One code by its blind index, unsealed (an audited console reveal); null when unknown or not yet published. */
export async function revealIndex(sql: SqlStorage, keys: CodeKeys, index: string): Promise<RevealedCode | null> {
  const r = sql
    .exec<{ idx: string; sealed: string; key_id: string; expires_at: number | null }>(
      "SELECT idx, sealed, key_id, expires_at FROM codes WHERE idx = ? AND status != 'staged'",
      index,
    )
    .toArray()[0];
  if (!r) return null;
  const secret = await unseal(keys, r.idx, r.sealed, r.key_id);
  return secret.p === undefined
    ? { code: secret.c, expires_at: toIso(r.expires_at) }
    : { code: secret.c, pin: secret.p, expires_at: toIso(r.expires_at) };
}

/** One row sealed again under the current key. Same blind index, so the same associated data. */
export async function resealRow(keys: CodeKeys, row: { idx: string; sealed: string; key_id: string }): Promise<string> {
  return seal(keys, row.idx, await unseal(keys, row.idx, row.sealed, row.key_id));
}

export function readJob(sql: SqlStorage): ReencryptJob | null {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'reencrypt'").toArray()[0];
  return row ? (JSON.parse(row.value) as ReencryptJob) : null;
}

function writeJob(sql: SqlStorage, job: ReencryptJob): void {
  sql.exec(
    "INSERT INTO meta (key, value) VALUES ('reencrypt', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    JSON.stringify(job),
  );
}

/** Starts (or restarts) the job; a running job is left as it is. Returns true when the alarm has work. */
export function startReencrypt(sql: SqlStorage, now: number): boolean {
  const job = readJob(sql);
  if (job?.status === "running") return true;
  writeJob(sql, { status: "running", started_at: now, reencrypted: 0 });
  return true;
}

export function reencryptStatus(sql: SqlStorage, currentKeyId: string): ReencryptStatus {
  const byKey: Record<string, number> = {};
  let remaining = 0;
  for (const r of sql.exec<{ key_id: string; n: number }>("SELECT key_id, COUNT(*) AS n FROM codes GROUP BY key_id")) {
    byKey[r.key_id] = r.n;
    if (r.key_id !== currentKeyId) remaining += r.n;
  }
  const job = readJob(sql);
  return {
    status: job?.status ?? "idle",
    current_key_id: currentKeyId,
    remaining,
    reencrypted: job?.reencrypted ?? 0,
    by_key_id: byKey,
    error: job?.error ?? null,
  };
}

/**
 * One alarm's worth of the job: up to REENCRYPT_CHUNK codes within about `budgetMs`. Returns true
 * while work remains. A code under a key id we do not hold fails the job (the old key was removed
 * too early) rather than the alarm, so holds and the outbox keep moving.
 */
export async function advanceReencrypt(
  sql: SqlStorage,
  source: string,
  keys: CodeKeys,
  budgetMs: number,
  ref?: { productId: string; shard: number },
): Promise<boolean> {
  const job = readJob(sql);
  if (job?.status !== "running") return false;
  const deadline = Date.now() + budgetMs;
  const rows = sql
    .exec<{ id: number; idx: string; sealed: string; key_id: string }>(
      "SELECT id, idx, sealed, key_id FROM codes WHERE key_id != ? ORDER BY id LIMIT ?",
      keys.sealKeyId,
      REENCRYPT_CHUNK,
    )
    .toArray();
  const updates: [number, string, string][] = [];
  try {
    for (let i = 0; i < rows.length && (i === 0 || Date.now() < deadline); i += SLICE) {
      const slice = rows.slice(i, i + SLICE);
      const sealed = await Promise.all(slice.map((r) => resealRow(keys, r)));
      for (const [j, r] of slice.entries()) updates.push([r.id, sealed[j], r.key_id]);
    }
  } catch (err) {
    writeJob(sql, {
      ...job,
      status: "failed",
      finished_at: Date.now(),
      error: err instanceof Error ? err.message.slice(0, 200) : "unknown",
    });
    return false;
  }
  // One synchronous statement: the chunk lands whole. The key_id guard skips a row changed meanwhile.
  if (updates.length) {
    sql.exec(
      `UPDATE codes SET sealed = json_extract(u.value, '$[1]'), key_id = ?
       FROM json_each(?) AS u WHERE codes.id = json_extract(u.value, '$[0]') AND codes.key_id = json_extract(u.value, '$[2]')`,
      keys.sealKeyId,
      JSON.stringify(updates),
    );
  }
  const reencrypted = job.reencrypted + updates.length;
  const left = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM codes WHERE key_id != ?", keys.sealKeyId).one().n;
  if (left > 0) {
    writeJob(sql, { ...job, reencrypted });
    return true;
  }
  writeJob(sql, { ...job, status: "completed", reencrypted, finished_at: Date.now() });
  recordEvent(sql, source, "codes.reencrypted", {
    product_id: ref?.productId ?? null,
    shard: ref?.shard ?? null,
    key_id: keys.sealKeyId,
    count: reencrypted,
  });
  return false;
}
