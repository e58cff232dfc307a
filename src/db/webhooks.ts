/** Webhook subscriptions on D1. A deleted subscription stays as 'deleted' (hidden everywhere) for its delivery log. */
import type { SubscriptionRow } from "../lib/webhook-send";

/** The subscription if the subtree at `scopePath` holds it and it is not deleted; otherwise null. */
export async function subscriptionInScope(
  db: D1Database,
  id: string,
  scopePath: string,
): Promise<SubscriptionRow | null> {
  return db
    .prepare(
      "SELECT s.* FROM webhook_subscriptions s JOIN channels c ON c.id = s.channel_id WHERE s.id = ?1 AND s.status != 'deleted' AND substr(c.path, 1, length(?2)) = ?2",
    )
    .bind(id, scopePath)
    .first<SubscriptionRow>();
}

/** How many live (not deleted) subscriptions a channel has. */
export async function countSubscriptions(db: D1Database, channelId: string): Promise<number> {
  const count = await db
    .prepare("SELECT COUNT(*) AS n FROM webhook_subscriptions WHERE channel_id = ?1 AND status != 'deleted'")
    .bind(channelId)
    .first<{ n: number }>();
  return count?.n ?? 0;
}

/** Inserts an active subscription with its sealed signing secret; the stored row. */
export async function insertSubscription(
  db: D1Database,
  s: {
    id: string;
    channelId: string;
    url: string;
    /** JSON array of event filters. */
    events: string;
    description: string | null;
    sealed: string;
    keyId: string;
    now: number;
  },
): Promise<SubscriptionRow | null> {
  return db
    .prepare(
      `INSERT INTO webhook_subscriptions (id, channel_id, url, events, description, status, secret_sealed, secret_key_id, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?8, ?8) RETURNING *`,
    )
    .bind(s.id, s.channelId, s.url, s.events, s.description, s.sealed, s.keyId, s.now)
    .first<SubscriptionRow>();
}

/** Live subscriptions of the subtree at `scopePath`, by id, optionally of one channel and status (limit + 1 rows). */
export async function listSubscriptions(
  db: D1Database,
  scopePath: string,
  q: { channel_id?: string; status?: string; cursor?: string; limit: number },
): Promise<SubscriptionRow[]> {
  const binds: unknown[] = [scopePath];
  const where = ["substr(c.path, 1, length(?1)) = ?1", "s.status != 'deleted'"];
  if (q.channel_id) {
    binds.push(q.channel_id);
    where.push(`s.channel_id = ?${binds.length}`);
  }
  if (q.status) {
    binds.push(q.status);
    where.push(`s.status = ?${binds.length}`);
  }
  if (q.cursor) {
    binds.push(q.cursor);
    where.push(`s.id > ?${binds.length}`);
  }
  binds.push(q.limit + 1);
  const { results } = await db
    .prepare(
      `SELECT s.* FROM webhook_subscriptions s JOIN channels c ON c.id = s.channel_id WHERE ${where.join(" AND ")} ORDER BY s.id LIMIT ?${binds.length}`,
    )
    .bind(...binds)
    .all<SubscriptionRow>();
  return results;
}

/** Replaces a live subscription's URL, events, description and status; the row, or null if it was deleted meanwhile. */
export async function updateSubscription(
  db: D1Database,
  s: { id: string; url: string; events: string; description: string | null; status: string; now: number },
): Promise<SubscriptionRow | null> {
  return db
    .prepare(
      "UPDATE webhook_subscriptions SET url = ?2, events = ?3, description = ?4, status = ?5, updated_at = ?6 WHERE id = ?1 AND status != 'deleted' RETURNING *",
    )
    .bind(s.id, s.url, s.events, s.description, s.status, s.now)
    .first<SubscriptionRow>();
}

/** Marks a subscription deleted and wipes its secret (the row stays for its delivery log). */
export async function deleteSubscription(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE webhook_subscriptions SET status = 'deleted', deleted_at = ?2, updated_at = ?2, secret_sealed = '', secret_key_id = '' WHERE id = ?1",
    )
    .bind(id, now)
    .run();
}

/** Replaces a live subscription's sealed signing secret; the row, or null if it was deleted meanwhile. */
export async function rotateSubscriptionSecret(
  db: D1Database,
  id: string,
  sealed: { sealed: string; keyId: string },
  now: number,
): Promise<SubscriptionRow | null> {
  return db
    .prepare(
      "UPDATE webhook_subscriptions SET secret_sealed = ?2, secret_key_id = ?3, updated_at = ?4 WHERE id = ?1 AND status != 'deleted' RETURNING *",
    )
    .bind(id, sealed.sealed, sealed.keyId, now)
    .first<SubscriptionRow>();
}

/** A subscription by id, whatever its status, or null. */
export async function getSubscription(db: D1Database, id: string): Promise<SubscriptionRow | null> {
  return db.prepare("SELECT * FROM webhook_subscriptions WHERE id = ?1").bind(id).first<SubscriptionRow>();
}

/** The active subscriptions with their channel's path (what the fan-out matches events against). */
export async function activeSubscriptionPaths(db: D1Database): Promise<{ id: string; events: string; path: string }[]> {
  const { results } = await db
    .prepare(
      "SELECT s.id, s.events, c.path FROM webhook_subscriptions s JOIN channels c ON c.id = s.channel_id WHERE s.status = 'active'",
    )
    .all<{ id: string; events: string; path: string }>();
  return results;
}
