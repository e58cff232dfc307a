/**
 * Console sessions on D1: created at log-in, revoked at log-out or when the user changes (the session token is
 * checked in src/security/sessions.ts).
 */
import { ROOT_CHANNEL_ID } from "../domain/ids";
import type { UserRow } from "./users";

/** Records a new session; only the SHA-256 of its CSRF token is stored. */
export async function insertSession(
  db: D1Database,
  s: {
    id: string;
    userId: string;
    createdAt: number;
    expiresAt: number;
    csrfHash: string;
    ip: string | null;
    userAgent: string | null;
  },
): Promise<void> {
  await db
    .prepare(
      "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, csrf_hash, ip, user_agent) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7)",
    )
    .bind(s.id, s.userId, s.createdAt, s.expiresAt, s.csrfHash, s.ip, s.userAgent)
    .run();
}

export type SessionWithUser = UserRow & { expires_at: number; revoked_at: number | null };

/** A session with its user's row (the session's id, expiry and revocation; the user's other columns), or null. */
export async function sessionWithUser(db: D1Database, sessionId: string): Promise<SessionWithUser | null> {
  return db
    .prepare(
      "SELECT s.id, s.expires_at, s.revoked_at, u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1",
    )
    .bind(sessionId)
    .first<SessionWithUser>();
}

/** Log-out: revokes one session (a second revocation keeps the first time). */
export async function revokeSession(db: D1Database, sessionId: string, now: number): Promise<void> {
  await db
    .prepare("UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1")
    .bind(sessionId, now)
    .run();
}

/** Ends every live session of a user; how many were ended. */
export async function revokeUserSessions(db: D1Database, userId: string, now: number): Promise<number> {
  const res = await db
    .prepare("UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL")
    .bind(userId, now)
    .run();
  return res.meta.changes ?? 0;
}

export interface SessionAuthRow {
  id: string;
  user_id: string;
  expires_at: number;
  revoked_at: number | null;
  csrf_hash: string;
  role: string;
  status: string;
  channel_id: string | null;
  /** Path of the user's channel (the root's for a user without one); null if that channel is gone. */
  path: string | null;
}

/** A session with what authenticating a request by it needs: its user's role, status and channel path; or null. */
export async function sessionAuthRow(db: D1Database, sessionId: string): Promise<SessionAuthRow | null> {
  return db
    .prepare(
      `SELECT s.id, s.user_id, s.expires_at, s.revoked_at, s.csrf_hash, u.role, u.status, u.channel_id, ch.path
     FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN channels ch ON ch.id = COALESCE(u.channel_id, ?2) WHERE s.id = ?1`,
    )
    .bind(sessionId, ROOT_CHANNEL_ID)
    .first<SessionAuthRow>();
}
