/**
 * API keys and publishable keys on D1, stored as SHA-256 only: the keys routes' reads and writes, and the lookups by
 * hash of src/security/auth.ts and src/lib/publishable-keys.ts.
 */

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

/** Stores a new publishable key: its row and the SHA-256 of its secret (the secret itself is never stored). */
export async function insertPublishableKey(
  db: D1Database,
  row: {
    id: string;
    channelId: string;
    name: string | null;
    prefix: string;
    allowedOrigins: string;
    createdAt: number;
  },
  hash: string,
): Promise<void> {
  await db
    .prepare(
      "INSERT INTO publishable_keys (id, channel_id, name, prefix, hash, allowed_origins, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(row.id, row.channelId, row.name, row.prefix, hash, row.allowedOrigins, row.createdAt)
    .run();
}

/** Revokes a channel's publishable key (a second revocation keeps the first time); whether there is such a key. */
export async function revokePublishableKeyRow(
  db: D1Database,
  channelId: string,
  keyId: string,
  now: number,
): Promise<boolean> {
  const row = await db
    .prepare(
      "UPDATE publishable_keys SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2 AND channel_id = ?3 RETURNING id",
    )
    .bind(now, keyId, channelId)
    .first();
  return row !== null;
}

export interface LivePublishableKey {
  id: string;
  channel_id: string;
  /** JSON array of origins. */
  allowed_origins: string;
  /** Materialised path of the key's channel. */
  path: string;
}

/** The live (not revoked) publishable key with this secret's SHA-256, with its channel's path, or null. */
export async function livePublishableKeyByHash(db: D1Database, hash: string): Promise<LivePublishableKey | null> {
  return db
    .prepare(
      "SELECT k.id, k.channel_id, k.allowed_origins, c.path FROM publishable_keys k JOIN channels c ON c.id = k.channel_id WHERE k.hash = ?1 AND k.revoked_at IS NULL",
    )
    .bind(hash)
    .first<LivePublishableKey>();
}

/** Whether some live publishable key allows this origin. */
export async function anyKeyAllowsOrigin(db: D1Database, origin: string): Promise<boolean> {
  return (
    (await db
      .prepare(
        "SELECT 1 AS ok FROM publishable_keys k, json_each(k.allowed_origins) o WHERE k.revoked_at IS NULL AND o.value = ?1 LIMIT 1",
      )
      .bind(origin)
      .first()) !== null
  );
}

export interface ApiKeyAuthRow {
  id: string;
  channel_id: string;
  /** JSON array of scopes. */
  scopes: string;
  expires_at: number | null;
  revoked_at: number | null;
  rate_limit_per_minute: number | null;
  reveal_limit_per_hour: number | null;
  require_signature: number;
  /** Materialised path of the key's channel. */
  path: string;
}

/** The API key with this secret's SHA-256 (revoked or expired ones too: the caller decides) and its channel path. */
export async function apiKeyByHash(db: D1Database, hash: string): Promise<ApiKeyAuthRow | null> {
  return db
    .prepare(
      `SELECT k.id, k.channel_id, k.scopes, k.expires_at, k.revoked_at, k.rate_limit_per_minute, k.reveal_limit_per_hour, k.require_signature, c.path
     FROM api_keys k JOIN channels c ON c.id = k.channel_id WHERE k.hash = ?1`,
    )
    .bind(hash)
    .first<ApiKeyAuthRow>();
}

/** Records when an API key was last used. */
export async function touchApiKey(db: D1Database, keyId: string, now: number): Promise<void> {
  await db.prepare("UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2").bind(now, keyId).run();
}
