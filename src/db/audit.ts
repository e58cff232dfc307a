/** The audit log on D1, append-only (written by the middleware in src/lib/audit.ts and by code reveals at checkout). */
import type { AuditEntry } from "../lib/audit";

export interface AuditFilter {
  /** Subtree path of the caller; null for the root, which sees every entry. */
  scopePath: string | null;
  actor_key_id?: string;
  action?: string;
  resource_id?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  cursor?: string;
  limit: number;
}

/** A page of audit entries, newest first (limit + 1 rows so the caller can tell whether there is more). */
export async function listAudit(db: D1Database, f: AuditFilter): Promise<AuditEntry[]> {
  const where: string[] = [];
  const binds: unknown[] = [];
  const add = (clause: (n: string) => string, value: unknown) => {
    binds.push(value);
    where.push(clause(`?${binds.length}`));
  };
  // A channel sees only what was done by keys of its subtree.
  if (f.scopePath !== null)
    add((p) => `actor_channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(${p})) = ${p})`, f.scopePath);
  if (f.actor_key_id) add((p) => `actor_key_id = ${p}`, f.actor_key_id);
  if (f.action) add((p) => `substr(action, 1, length(${p})) = ${p}`, f.action);
  if (f.resource_id) add((p) => `resource_id = ${p}`, f.resource_id);
  if (f.from !== undefined) add((p) => `at >= ${p}`, f.from);
  if (f.to !== undefined) add((p) => `at < ${p}`, f.to);
  if (f.cursor) add((p) => `id < ${p}`, f.cursor);
  binds.push(f.limit + 1);
  const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?${binds.length}`;
  const { results } = await db
    .prepare(sql)
    .bind(...binds)
    .all<AuditEntry>();
  return results;
}

export interface AuditRow {
  id: string;
  at: number;
  actor_key_id: string | null;
  actor_channel_id: string | null;
  action: string;
  resource_id: string | null;
  status: number;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

/** Appends one audit entry (the table is append-only). */
export async function insertAudit(db: D1Database, e: AuditRow): Promise<void> {
  await db
    .prepare(
      "INSERT INTO audit_log (id, at, actor_key_id, actor_channel_id, action, resource_id, status, ip, user_agent, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(
      e.id,
      e.at,
      e.actor_key_id,
      e.actor_channel_id,
      e.action,
      e.resource_id,
      e.status,
      e.ip,
      e.user_agent,
      e.request_id,
    )
    .run();
}
