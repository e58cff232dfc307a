/** Console users on D1: accounts, roles and the log-in failure counter (sessions are in ./sessions.ts). */

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  role: string;
  channel_id: string | null;
  status: string;
  failed_logins: number;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
}

/** A user by id, or null. */
export async function getUser(db: D1Database, id: string): Promise<UserRow | null> {
  return db.prepare("SELECT * FROM users WHERE id = ?1").bind(id).first<UserRow>();
}

/** A user by (lower-cased) email, or null: the log-in lookup. */
export async function getUserByEmail(db: D1Database, email: string): Promise<UserRow | null> {
  return db.prepare("SELECT * FROM users WHERE email = ?1").bind(email).first<UserRow>();
}

/** Inserts a new active user unless the email is taken; whether it was inserted. */
export async function insertUser(db: D1Database, row: UserRow): Promise<boolean> {
  const inserted = await db
    .prepare(
      "INSERT INTO users (id, email, password_hash, role, channel_id, status, failed_logins, locked_until, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'active', 0, NULL, ?6, ?6) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(row.id, row.email, row.password_hash, row.role, row.channel_id, row.created_at)
    .first();
  return !!inserted;
}

/** A page of users by id after `cursor` ("" for the first); limit + 1 rows: the caller tells if there is more. */
export async function listUsers(db: D1Database, cursor: string, limit: number): Promise<UserRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM users WHERE id > ?1 ORDER BY id LIMIT ?2")
    .bind(cursor, limit + 1)
    .all<UserRow>();
  return results;
}

/** How many active owners there are besides this user (the last one cannot be demoted or disabled). */
export async function otherActiveOwners(db: D1Database, userId: string): Promise<number | null> {
  const row = await db
    .prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'owner' AND status = 'active' AND id != ?1")
    .bind(userId)
    .first<{ n: number }>();
  return row ? row.n : null;
}

/** Sets role, status, channel and password hash; a new password also clears the failure counter and lock. */
export async function updateUser(
  db: D1Database,
  u: {
    id: string;
    role: string;
    status: string;
    channelId: string | null;
    passwordHash: string;
    now: number;
    passwordChanged: boolean;
  },
): Promise<UserRow | null> {
  return db
    .prepare(
      `UPDATE users SET role = ?2, status = ?3, channel_id = ?4, password_hash = ?5, updated_at = ?6,
         failed_logins = CASE WHEN ?7 THEN 0 ELSE failed_logins END, locked_until = CASE WHEN ?7 THEN NULL ELSE locked_until END
       WHERE id = ?1 RETURNING *`,
    )
    .bind(u.id, u.role, u.status, u.channelId, u.passwordHash, u.now, u.passwordChanged ? 1 : 0)
    .first<UserRow>();
}

/**
 * Counts a log-in attempt before the password is checked, so parallel guesses cannot exceed the budget:
 * the new failure count, or null when the account is locked (or out of attempts).
 */
export async function countLoginAttempt(
  db: D1Database,
  userId: string,
  now: number,
  maxFailures: number,
): Promise<{ failed_logins: number } | null> {
  return db
    .prepare(
      `UPDATE users SET failed_logins = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END, locked_until = NULL
         WHERE id = ?1 AND ((locked_until IS NOT NULL AND locked_until <= ?2) OR (locked_until IS NULL AND failed_logins < ?3)) RETURNING failed_logins`,
    )
    .bind(userId, now, maxFailures)
    .first<{ failed_logins: number }>();
}

/** Locks the account until `until` (epoch ms). */
export async function lockUser(db: D1Database, userId: string, until: number): Promise<void> {
  await db.prepare("UPDATE users SET locked_until = ?2 WHERE id = ?1").bind(userId, until).run();
}

/** A successful log-in: clears the failure counter and any lock. */
export async function clearLoginFailures(db: D1Database, userId: string): Promise<void> {
  await db.prepare("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?1").bind(userId).run();
}
