/** Channel tree and price-list queries on D1. Every lookup by id is scoped to a subtree path. */
import { pathIds } from "../domain/channels";
import type { PriceEntry } from "../domain/pricing";

export interface ChannelRow {
  id: string;
  parent_id: string | null;
  name: string;
  type: string;
  status: string;
  path: string;
  depth: number;
  created_at: number;
}

export function channelView(row: ChannelRow) {
  return {
    id: row.id,
    object: "channel" as const,
    parent_id: row.parent_id,
    name: row.name,
    type: row.type,
    status: row.status as "active" | "suspended",
    depth: row.depth,
    path: pathIds(row.path),
    created_at: new Date(row.created_at).toISOString(),
  };
}

/** The channel if it lies in the subtree at `scopePath`; otherwise null, exactly like an unknown id. */
export async function channelInScope(db: D1Database, id: string, scopePath: string): Promise<ChannelRow | null> {
  return db
    .prepare("SELECT * FROM channels WHERE id = ?1 AND substr(path, 1, length(?2)) = ?2")
    .bind(id, scopePath)
    .first<ChannelRow>();
}

export async function insertChannel(db: D1Database, row: ChannelRow): Promise<void> {
  await db
    .prepare(
      "INSERT INTO channels (id, parent_id, name, type, status, path, depth, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(row.id, row.parent_id, row.name, row.type, row.status, row.path, row.depth, row.created_at)
    .run();
}

export async function listSubtree(
  db: D1Database,
  scopePath: string,
  q: { cursor?: string; limit: number; parent_id?: string; type?: string; status?: string },
): Promise<ChannelRow[]> {
  const where = ["substr(path, 1, length(?1)) = ?1"];
  const binds: unknown[] = [scopePath];
  for (const field of ["parent_id", "type", "status"] as const) {
    if (q[field]) {
      binds.push(q[field]);
      where.push(`${field} = ?${binds.length}`);
    }
  }
  if (q.cursor) {
    binds.push(q.cursor);
    where.push(`id > ?${binds.length}`);
  }
  binds.push(q.limit + 1);
  const { results } = await db
    .prepare(`SELECT * FROM channels WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?${binds.length}`)
    .bind(...binds)
    .all<ChannelRow>();
  return results;
}

/** Whether the channel or any ancestor is suspended (a suspended channel's whole subtree cannot order). */
export async function suspendedOnPath(db: D1Database, path: string): Promise<boolean> {
  const row = await db
    .prepare("SELECT COUNT(*) AS n FROM channels WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'active'")
    .bind(JSON.stringify(pathIds(path)))
    .first<{ n: number }>();
  return (row?.n ?? 0) > 0;
}

interface EntryRow {
  channel_id: string;
  product_id: string;
  enabled: number;
  price: number | null;
  discount_bps: number | null;
  allow_below: number;
  low_water: number | null;
  refill: number | null;
}

export type ChannelProductEntry = PriceEntry & {
  channel_id: string;
  product_id: string;
  low_water: number | null;
  refill: number | null;
};

const toEntry = (r: EntryRow): ChannelProductEntry => ({
  channel_id: r.channel_id,
  product_id: r.product_id,
  enabled: r.enabled === 1,
  price: r.price,
  discount_bps: r.discount_bps,
  allow_below: r.allow_below === 1,
  low_water: r.low_water,
  refill: r.refill,
});

/** Price-list entries along a path (root excluded), for the given products: chain[product][i] is the i-th channel below the root. */
export async function priceChains(
  db: D1Database,
  path: string,
  productIds: string[],
): Promise<Map<string, (ChannelProductEntry | undefined)[]>> {
  const below = pathIds(path).slice(1);
  const out = new Map<string, (ChannelProductEntry | undefined)[]>(
    productIds.map((p) => [p, below.map(() => undefined)]),
  );
  if (below.length === 0 || productIds.length === 0) return out;
  const { results } = await db
    .prepare(
      "SELECT * FROM channel_products WHERE channel_id IN (SELECT value FROM json_each(?1)) AND product_id IN (SELECT value FROM json_each(?2))",
    )
    .bind(JSON.stringify(below), JSON.stringify(productIds))
    .all<EntryRow>();
  for (const r of results) out.get(r.product_id)![below.indexOf(r.channel_id)] = toEntry(r);
  return out;
}

export async function getEntry(
  db: D1Database,
  channelId: string,
  productId: string,
): Promise<ChannelProductEntry | null> {
  const r = await db
    .prepare("SELECT * FROM channel_products WHERE channel_id = ?1 AND product_id = ?2")
    .bind(channelId, productId)
    .first<EntryRow>();
  return r ? toEntry(r) : null;
}

export async function upsertEntry(db: D1Database, e: ChannelProductEntry): Promise<void> {
  await db
    .prepare(
      `INSERT INTO channel_products (channel_id, product_id, enabled, price, discount_bps, allow_below, low_water, refill, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (channel_id, product_id) DO UPDATE SET enabled = excluded.enabled, price = excluded.price, discount_bps = excluded.discount_bps,
         allow_below = excluded.allow_below, low_water = excluded.low_water, refill = excluded.refill, updated_at = excluded.updated_at`,
    )
    .bind(
      e.channel_id,
      e.product_id,
      e.enabled ? 1 : 0,
      e.price,
      e.discount_bps,
      e.allow_below ? 1 : 0,
      e.low_water,
      e.refill,
      Date.now(),
    )
    .run();
}

/** Products enabled for a channel (for listing its pool), keyset-paginated by product id. */
export async function enabledProductIds(db: D1Database, channelId: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT product_id FROM channel_products WHERE channel_id = ?1 AND enabled = 1")
    .bind(channelId)
    .all<{ product_id: string }>();
  return results.map((r) => r.product_id);
}

/** Renames a channel and/or sets its status (null leaves a field as is); the updated row, or null if unknown. */
export async function updateChannel(
  db: D1Database,
  id: string,
  name: string | null,
  status: string | null,
): Promise<ChannelRow | null> {
  return db
    .prepare("UPDATE channels SET name = COALESCE(?1, name), status = COALESCE(?2, status) WHERE id = ?3 RETURNING *")
    .bind(name, status, id)
    .first<ChannelRow>();
}

/** Whether a channel with this id exists (anywhere in the tree). */
export async function channelExists(db: D1Database, id: string): Promise<boolean> {
  const row = await db.prepare("SELECT id FROM channels WHERE id = ?1").bind(id).first();
  return !!row;
}

/** The materialised paths of these channels, by id (unknown ids are left out). */
export async function channelPaths(db: D1Database, ids: string[]): Promise<Map<string, string>> {
  const { results } = await db
    .prepare("SELECT id, path FROM channels WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(ids))
    .all<{ id: string; path: string }>();
  return new Map(results.map((r) => [r.id, r.path]));
}

/** Which of these channels lie in the subtree of channel `ancestorId` (itself included). */
export async function channelsUnder(db: D1Database, ancestorId: string, ids: string[]): Promise<Set<string>> {
  const { results } = await db
    .prepare(
      `SELECT c.id FROM channels c, channels s WHERE s.id = ?1 AND c.id IN (SELECT value FROM json_each(?2))
         AND substr(c.path, 1, length(s.path)) = s.path`,
    )
    .bind(ancestorId, JSON.stringify(ids))
    .all<{ id: string }>();
  return new Set(results.map((r) => r.id));
}
