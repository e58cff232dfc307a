/** Export jobs and their CSV parts in D1 (src/db/schema-exports.ts). */

export type ExportKind = "orders" | "redemptions";
export type ExportStatus = "queued" | "running" | "done" | "failed";

export interface ExportJob {
  id: string;
  channel_id: string;
  scope_path: string;
  requested_by: string;
  kind: ExportKind;
  filter: string;
  status: ExportStatus;
  rows: number;
  total: number | null;
  parts: number;
  cursor: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
}

export async function insertExport(db: D1Database, j: ExportJob): Promise<void> {
  await db
    .prepare(
      `INSERT INTO export_jobs (id, channel_id, scope_path, requested_by, kind, filter, status, rows, total, parts, cursor,
         error, created_at, updated_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, NULL, 0, NULL, NULL, ?8, ?8, ?9)`,
    )
    .bind(j.id, j.channel_id, j.scope_path, j.requested_by, j.kind, j.filter, j.status, j.created_at, j.expires_at)
    .run();
}

export const getExport = (db: D1Database, id: string) =>
  db.prepare("SELECT * FROM export_jobs WHERE id = ?1").bind(id).first<ExportJob>();

/** The latest exports a channel asked for, newest first. */
export async function listExports(db: D1Database, channelId: string, limit: number): Promise<ExportJob[]> {
  const { results } = await db
    .prepare("SELECT * FROM export_jobs WHERE channel_id = ?1 ORDER BY id DESC LIMIT ?2")
    .bind(channelId, limit)
    .all<ExportJob>();
  return results;
}

/** Jobs of a channel not finished yet (a channel may run only a few at once). */
export async function unfinishedExports(db: D1Database, channelId: string, now: number): Promise<number> {
  const row = await db
    .prepare(
      "SELECT COUNT(*) AS n FROM export_jobs WHERE channel_id = ?1 AND status IN ('queued', 'running') AND expires_at > ?2",
    )
    .bind(channelId, now)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** queued → running with the count the filter matches now; false if another delivery started it first. */
export async function startExport(db: D1Database, id: string, total: number, now: number): Promise<boolean> {
  const r = await db
    .prepare(
      "UPDATE export_jobs SET status = 'running', total = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'queued'",
    )
    .bind(id, total, now)
    .run();
  return r.meta.changes === 1;
}

/**
 * Writes part `part` and advances the job past it, in one transaction and only if the job is still at that part:
 * a redelivered or duplicated message writes nothing twice. True if this call advanced the job.
 */
export async function writePart(
  db: D1Database,
  job: { id: string; parts: number },
  p: { body: string; rows: number; cursor: string | null; done: boolean; now: number },
): Promise<boolean> {
  const [, update] = await db.batch([
    db
      .prepare(
        "INSERT OR IGNORE INTO export_parts (export_id, part, body) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM export_jobs WHERE id = ?1 AND parts = ?2 AND status = 'running')",
      )
      .bind(job.id, job.parts, p.body),
    db
      .prepare(
        `UPDATE export_jobs SET parts = parts + 1, rows = rows + ?3, cursor = ?4, status = ?5, updated_at = ?6
         WHERE id = ?1 AND parts = ?2 AND status = 'running'`,
      )
      .bind(job.id, job.parts, p.rows, p.cursor, p.done ? "done" : "running", p.now),
  ]);
  return update.meta.changes === 1;
}

export async function failExport(db: D1Database, id: string, error: string, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE export_jobs SET status = 'failed', error = ?2, updated_at = ?3 WHERE id = ?1 AND status IN ('queued', 'running')",
    )
    .bind(id, error, now)
    .run();
}

/** Parts [from, from + n) of a finished export, in order. */
export async function readParts(db: D1Database, id: string, from: number, n: number): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT body FROM export_parts WHERE export_id = ?1 AND part >= ?2 AND part < ?3 ORDER BY part")
    .bind(id, from, from + n)
    .all<{ body: string }>();
  return results.map((r) => r.body);
}

/** Deletes exports past their expiry and their parts (the cron). */
export async function pruneExports(db: D1Database, now: number): Promise<void> {
  await db.batch([
    db
      .prepare("DELETE FROM export_parts WHERE export_id IN (SELECT id FROM export_jobs WHERE expires_at < ?1)")
      .bind(now),
    db.prepare("DELETE FROM export_jobs WHERE expires_at < ?1").bind(now),
  ]);
}
