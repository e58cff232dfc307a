/** Reads of the stored reconciliation runs (src/lib/reconciliation.ts writes them). */
import type { StoredRun } from "../lib/reconciliation";

/** A page of runs, newest first, optionally of one status (limit + 1 rows: the caller tells whether there is more). */
export async function listReconciliationRuns(
  db: D1Database,
  q: { status?: string; cursor?: string; limit: number },
): Promise<StoredRun[]> {
  const { results } = await db
    .prepare(
      "SELECT * FROM reconciliation_runs WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3",
    )
    .bind(q.status ?? null, q.cursor ?? null, q.limit + 1)
    .all<StoredRun>();
  return results;
}
