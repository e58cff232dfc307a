/**
 * One claim of a campaign, wherever it comes from (the claims route, or the auto-grant consumer): the Campaign
 * object decides against exact counts and reserves; the claim's order (1 unit on the campaign's channel, no
 * charge) is placed exactly once under the claim's id; the claim is confirmed, recorded in D1 and announced as
 * `campaign.claimed` (a webhook carrying the claim id, never the code; a deterministic event id, so a replay
 * announces nothing new). When no code is left the reservation is released and the budget given back.
 */
import { type CampaignRow, campaignsToSweep, recordClaim } from "../db/campaigns";
import { getProducts } from "../db/products";
import { businessOffsetMs } from "../domain/analytics-range";
import type { CampaignRules, ClaimRefusal } from "../domain/campaigns";
import { newId } from "../domain/ids";
import { type ClaimRecord, campaignObject } from "../objects/campaign";
import { channelAccount } from "../objects/channel-account";
import type { IssuedCode } from "../objects/sku-pool";
import { fanOutWebhooks } from "../queues/webhook-fanout";
import { sha256Hex } from "../security/primitives";

export const rulesOf = (c: CampaignRow): CampaignRules => ({
  starts_at: c.starts_at,
  ends_at: c.ends_at,
  max_claims: c.max_claims,
  daily_max: c.daily_max,
  max_amount: c.max_amount,
  face_value: c.face_value,
  per_customer_max: c.per_customer_max,
});

export type ClaimOutcome =
  | { ok: true; claim: ClaimRecord; orderId: string; code: IssuedCode | null; replayed: boolean }
  | {
      ok: false;
      reason:
        | ClaimRefusal
        | "idempotency_mismatch"
        | "campaign_paused"
        | "out_of_stock"
        | "not_issued"
        | "no_product"
        | "product_inactive";
    };

/** Places (or finds again) the claim's order: 1 unit on the campaign's channel, no charge, keyed by the claim. */
async function issue(env: Env, campaign: CampaignRow, claim: ClaimRecord) {
  const product = (await getProducts(env.DB, [campaign.product_id])).get(campaign.product_id);
  if (!product) return null;
  // A paused or archived product stops handing out codes at once, through campaigns as through orders.
  if (product.status !== "active") return { ok: false as const, reason: "product_inactive" as const };
  const key = `campaign-claim:${claim.id}`;
  return channelAccount(env, campaign.channel_id).placeOrder({
    channelId: campaign.channel_id,
    paysFromBalance: false,
    idempotencyKey: key,
    requestHash: key,
    customerRef: claim.customer_ref,
    externalRef: claim.id,
    lines: [
      {
        product_id: product.id,
        quantity: 1,
        unit_price: 0,
        currency: product.currency,
        // Valid `validity_days` from the claim itself, not from whenever the order is issued (a replay issues later).
        validity: {
          type: "absolute",
          ends_at: new Date(claim.created_at + campaign.validity_days * 86_400_000).toISOString(),
        },
        shards: product.shards,
        per_customer_max: null,
        per_customer_window_days: null,
      },
    ],
  });
}

/** `campaign.claimed` for the webhooks: ids only, its id derived from the claim's so it is sent once. */
async function announce(
  env: Env,
  campaign: CampaignRow,
  claim: ClaimRecord,
  orderId: string,
  expiresAt: number | null,
) {
  const digest = await sha256Hex(`campaign.claimed:${claim.id}`);
  await fanOutWebhooks(env, [
    {
      id: `evt_${digest.slice(0, 26)}`,
      type: "campaign.claimed",
      created_at: new Date(claim.created_at).toISOString(),
      source: `campaign:${campaign.id}`,
      seq: 1,
      data: {
        claim_id: claim.id,
        campaign_id: campaign.id,
        channel_id: campaign.channel_id,
        customer_ref: claim.customer_ref,
        order_id: orderId,
        expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      },
    },
  ]);
}

export async function claimCode(
  env: Env,
  campaign: CampaignRow,
  customerRef: string,
  idemKey: string,
): Promise<ClaimOutcome> {
  if (campaign.status === "archived") return { ok: false, reason: "campaign_ended" };
  if (campaign.status === "paused") return { ok: false, reason: "campaign_paused" };
  const now = Date.now();
  const stub = campaignObject(env, campaign.id);
  const decision = await stub.claim(rulesOf(campaign), {
    claimId: newId("clm", now),
    customerRef,
    idemKey,
    now,
    dayOffsetMs: businessOffsetMs(env.ANALYTICS_TZ_OFFSET_MINUTES),
  });
  if (decision.kind === "refused") return { ok: false, reason: decision.reason };
  return settle(env, campaign, decision.claim, decision.kind === "replay");
}

/**
 * After the reservation: the claim's order (placed once, keyed by the claim), then confirm, the D1 row and the
 * webhook; or, when no code could be issued, the reservation's place given back. Safe to run again for the same
 * claim (a replay, the sweep): every step is idempotent.
 */
async function settle(env: Env, campaign: CampaignRow, claim: ClaimRecord, replayed: boolean): Promise<ClaimOutcome> {
  const stub = campaignObject(env, campaign.id);
  const result = await issue(env, campaign, claim);
  if (!result?.ok) {
    // Nothing was issued: the reservation gives its place back (release touches reserved claims only).
    await stub.release(claim.id);
    if (!result) return { ok: false, reason: "no_product" };
    if (result.reason === "product_inactive") return { ok: false, reason: "product_inactive" };
    const gone = result.reason === "out_of_stock" || result.reason === "quota_exceeded";
    return { ok: false, reason: gone ? "out_of_stock" : "not_issued" };
  }
  const code = result.codes[0]?.[0] ?? null;
  const expiresAt = code?.expires_at ? Date.parse(code.expires_at) : null;
  await stub.confirm(claim.id, result.order.id, expiresAt);
  await recordClaim(env.DB, {
    id: claim.id,
    campaign_id: campaign.id,
    channel_id: campaign.channel_id,
    customer_ref: claim.customer_ref,
    order_id: result.order.id,
    claimed_at: claim.created_at,
    expires_at: expiresAt,
  });
  await announce(env, campaign, claim, result.order.id, expiresAt);
  return {
    ok: true,
    claim: { ...claim, expires_at: expiresAt },
    orderId: result.order.id,
    code,
    replayed,
  };
}

/** Reservations older than this are taken for abandoned (a live claim settles in well under a second). */
export const STALE_RESERVATION_MS = 120_000;

/**
 * The cron's sweep: finishes every reservation a dead Worker left in the campaigns whose window is open or
 * closed within the last day, as the replay of its key would. Returns how many it settled.
 */
export async function sweepReservations(env: Env, now = Date.now()): Promise<number> {
  let settled = 0;
  for (const campaign of await campaignsToSweep(env.DB, now - 86_400_000)) {
    const stale = await campaignObject(env, campaign.id).staleReservations(now - STALE_RESERVATION_MS);
    for (const claim of stale) {
      await settle(env, campaign, claim, true);
      settled++;
    }
  }
  return settled;
}
