/** Campaigns and their granted claims in D1 (src/db/schema-campaigns.ts). */

export interface CampaignRow {
  id: string;
  channel_id: string;
  product_id: string;
  name: string;
  status: "active" | "paused" | "archived";
  starts_at: number;
  ends_at: number;
  validity_days: number;
  max_claims: number;
  daily_max: number | null;
  max_amount: number | null;
  face_value: number;
  currency: string;
  per_customer_max: number;
  grant_on: "customer.registered" | null;
  consumer_claims: number;
  created_at: number;
  updated_at: number;
}

const COLUMNS = [
  "id",
  "channel_id",
  "product_id",
  "name",
  "status",
  "starts_at",
  "ends_at",
  "validity_days",
  "max_claims",
  "daily_max",
  "max_amount",
  "face_value",
  "currency",
  "per_customer_max",
  "grant_on",
  "consumer_claims",
  "created_at",
  "updated_at",
] as const;

export async function insertCampaign(db: D1Database, c: CampaignRow): Promise<void> {
  await db
    .prepare(`INSERT INTO campaigns (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((_, i) => `?${i + 1}`).join(", ")})`)
    .bind(...COLUMNS.map((k) => c[k]))
    .run();
}

export async function replaceCampaign(db: D1Database, c: CampaignRow): Promise<void> {
  await db
    .prepare(
      `UPDATE campaigns SET ${COLUMNS.slice(1)
        .map((k, i) => `${k} = ?${i + 2}`)
        .join(", ")} WHERE id = ?1`,
    )
    .bind(...COLUMNS.map((k) => c[k]))
    .run();
}

/** The campaign, if its channel is in the subtree at `scopePath`. */
export const campaignInSubtree = (db: D1Database, id: string, scopePath: string) =>
  db
    .prepare(
      `SELECT c.* FROM campaigns c JOIN channels ch ON ch.id = c.channel_id
       WHERE c.id = ?1 AND substr(ch.path, 1, length(?2)) = ?2`,
    )
    .bind(id, scopePath)
    .first<CampaignRow>();

export async function listCampaigns(db: D1Database, scopePath: string, cursor: string | undefined, limit: number) {
  const { results } = await db
    .prepare(
      `SELECT c.* FROM campaigns c JOIN channels ch ON ch.id = c.channel_id
       WHERE substr(ch.path, 1, length(?1)) = ?1 AND (?2 IS NULL OR c.id < ?2) ORDER BY c.id DESC LIMIT ?3`,
    )
    .bind(scopePath, cursor ?? null, limit + 1)
    .all<CampaignRow>();
  return results;
}

export interface ClaimProjection {
  id: string;
  campaign_id: string;
  channel_id: string;
  customer_ref: string;
  order_id: string;
  claimed_at: number;
  expires_at: number | null;
}

/** A granted claim, once (a replay writes nothing new). */
export async function recordClaim(db: D1Database, c: ClaimProjection): Promise<void> {
  await db
    .prepare(
      `INSERT OR IGNORE INTO campaign_claims (id, campaign_id, channel_id, customer_ref, order_id, claimed_at, expires_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
    )
    .bind(c.id, c.campaign_id, c.channel_id, c.customer_ref, c.order_id, c.claimed_at, c.expires_at)
    .run();
}

export const claimRow = (db: D1Database, campaignId: string, claimId: string) =>
  db
    .prepare("SELECT * FROM campaign_claims WHERE id = ?1 AND campaign_id = ?2")
    .bind(claimId, campaignId)
    .first<ClaimProjection & { redeemed_at: number | null }>();

/** Every claim of a campaign for its funnel (at most max_claims rows). */
export async function campaignClaimRows(db: D1Database, campaignId: string) {
  const { results } = await db
    .prepare(
      "SELECT channel_id, claimed_at, redeemed_at, conversions, converted_value FROM campaign_claims WHERE campaign_id = ?1",
    )
    .bind(campaignId)
    .all<{
      channel_id: string;
      claimed_at: number;
      redeemed_at: number | null;
      conversions: number;
      converted_value: number;
    }>();
  return results;
}

/**
 * The events consumer's statements for a redemption of a claimed code (its order is the claim's), guarded by
 * processed_events like the projections; a reversal clears it.
 */
export function claimRedeemed(db: D1Database, eventId: string, orderId: string, at: number | null) {
  return db
    .prepare(
      `UPDATE campaign_claims SET redeemed_at = ?2 WHERE order_id = ?1 AND redeemed_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM processed_events WHERE event_id = ?3)`,
    )
    .bind(orderId, at, eventId);
}
export function claimRedemptionReversed(db: D1Database, eventId: string, orderId: string) {
  return db
    .prepare(
      `UPDATE campaign_claims SET redeemed_at = NULL WHERE order_id = ?1
       AND NOT EXISTS (SELECT 1 FROM processed_events WHERE event_id = ?2)`,
    )
    .bind(orderId, eventId);
}

export interface PartnerEvent {
  id: string;
  channel_id: string;
  idem_key: string;
  type: string;
  customer_ref: string;
  value: number;
  created_at: number;
}

/**
 * Records a partner event once per (channel, Idempotency-Key). A conversion is also credited, in the same
 * transaction and only if this call's row was the one inserted, to every claim the customer made in campaigns of
 * the subtree at `scopePath` before it. Returns the stored event (another call's, when the key was used before)
 * and the claims this call credited.
 */
export async function recordPartnerEvent(db: D1Database, e: PartnerEvent, scopePath: string) {
  const credit =
    e.type === "conversion"
      ? [
          db
            .prepare(
              `UPDATE campaign_claims SET conversions = conversions + 1, converted_value = converted_value + ?3
               WHERE customer_ref = ?2 AND claimed_at <= ?4
                 AND channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?5)) = ?5)
                 AND EXISTS (SELECT 1 FROM partner_events WHERE id = ?1)`,
            )
            .bind(e.id, e.customer_ref, e.value, e.created_at, scopePath),
        ]
      : [];
  const results = await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO partner_events (id, channel_id, idem_key, type, customer_ref, value, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
      )
      .bind(e.id, e.channel_id, e.idem_key, e.type, e.customer_ref, e.value, e.created_at),
    ...credit,
    db.prepare("SELECT * FROM partner_events WHERE channel_id = ?1 AND idem_key = ?2").bind(e.channel_id, e.idem_key),
  ]);
  const stored = results[results.length - 1].results[0] as PartnerEvent | undefined;
  return { event: stored ?? e, credited: credit.length ? (results[1].meta.changes ?? 0) : 0 };
}

/** Active campaigns of the subtree at `scopePath` that grant a claim on this partner event, open at `now`. */
export async function autoGrantCampaigns(db: D1Database, scopePath: string, grantOn: string, now: number) {
  const { results } = await db
    .prepare(
      `SELECT c.* FROM campaigns c JOIN channels ch ON ch.id = c.channel_id
       WHERE substr(ch.path, 1, length(?1)) = ?1 AND c.grant_on = ?2 AND c.status = 'active'
         AND c.starts_at <= ?3 AND c.ends_at > ?3 ORDER BY c.id LIMIT 100`,
    )
    .bind(scopePath, grantOn, now)
    .all<CampaignRow>();
  return results;
}

/** Campaigns whose window closed after `since` or is still open: where a dead Worker's reservation may wait. */
export async function campaignsToSweep(db: D1Database, since: number): Promise<CampaignRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM campaigns WHERE ends_at > ?1 ORDER BY id LIMIT 1000")
    .bind(since)
    .all<CampaignRow>();
  return results;
}
