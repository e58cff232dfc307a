/** API keys and publishable keys of a channel on D1 (stored as SHA-256 only; auth looks them up in src/security). */

export interface KeyRow {
  id: string;
  channel_id: string;
  name: string | null;
  prefix: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  rate_limit_per_minute: number | null;
  reveal_limit_per_hour: number | null;
  require_signature: number;
}

export interface PublishableKeyRow {
  id: string;
  name: string | null;
  prefix: string;
  /** JSON array of origins. */
  allowed_origins: string;
  created_at: number;
  revoked_at: number | null;
}

/** Stores a new API key: its row and the SHA-256 of its secret (the secret itself is never stored). */
export async function insertApiKey(db: D1Database, row: KeyRow, hash: string): Promise<void> {
  await db
    .prepare(
      `INSERT INTO api_keys (id, channel_id, name, prefix, hash, scopes, created_at, expires_at, rate_limit_per_minute, reveal_limit_per_hour, require_signature)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
    )
    .bind(
      row.id,
      row.channel_id,
      row.name,
      row.prefix,
      hash,
      row.scopes,
      row.created_at,
      row.expires_at,
      row.rate_limit_per_minute,
      row.reveal_limit_per_hour,
      row.require_signature,
    )
    .run();
}

/** A channel's API keys, by id (first 200). */
export async function listApiKeys(db: D1Database, channelId: string): Promise<KeyRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM api_keys WHERE channel_id = ?1 ORDER BY id LIMIT 200")
    .bind(channelId)
    .all<KeyRow>();
  return results;
}

/** A channel's publishable keys, by id (first 200). */
export async function listPublishableKeys(db: D1Database, channelId: string): Promise<PublishableKeyRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM publishable_keys WHERE channel_id = ?1 ORDER BY id LIMIT 200")
    .bind(channelId)
    .all<PublishableKeyRow>();
  return results;
}

/** Revokes a channel's API key (a second revocation keeps the first time); the row, or null if there is no such key. */
export async function revokeApiKey(
  db: D1Database,
  channelId: string,
  keyId: string,
  now: number,
): Promise<KeyRow | null> {
  return db
    .prepare("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2 AND channel_id = ?3 RETURNING *")
    .bind(now, keyId, channelId)
    .first<KeyRow>();
}

/** A publishable key by id, or null. */
export async function getPublishableKey(db: D1Database, keyId: string): Promise<PublishableKeyRow | null> {
  return db.prepare("SELECT * FROM publishable_keys WHERE id = ?1").bind(keyId).first<PublishableKeyRow>();
}
