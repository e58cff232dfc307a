/**
 * Trial-code campaigns (pure): whether a claim may be granted, and the funnel numbers of a campaign. The
 * Campaign Durable Object applies `claimVerdict` to its own exact counts, one claim at a time, so a budget can
 * never be overshot however many claims race (docs/campaigns.md).
 */
import { businessDay } from "./analytics-range";

export interface CampaignRules {
  starts_at: number;
  ends_at: number;
  /** At most this many claims ever (claims released because no code was left do not count). */
  max_claims: number;
  /** At most this many claims per business day, or no daily cap. */
  daily_max: number | null;
  /** At most this much face value handed out (minor units), or no money cap. */
  max_amount: number | null;
  /** The product's face value at the campaign's creation: what one claimed code costs the merchant. */
  face_value: number;
  per_customer_max: number;
}

export interface ClaimCounts {
  total: number;
  today: number;
  customer: number;
}

export type ClaimRefusal = "campaign_not_started" | "campaign_ended" | "already_claimed" | "budget_exhausted";

/** The first rule a new claim breaks, in the order a caller should learn it, or null when it may be granted. */
export function claimVerdict(rules: CampaignRules, counts: ClaimCounts, now: number): ClaimRefusal | null {
  if (now < rules.starts_at) return "campaign_not_started";
  if (now >= rules.ends_at) return "campaign_ended";
  if (counts.customer >= rules.per_customer_max) return "already_claimed";
  if (counts.total >= rules.max_claims) return "budget_exhausted";
  if (rules.daily_max !== null && counts.today >= rules.daily_max) return "budget_exhausted";
  if (rules.max_amount !== null && (counts.total + 1) * rules.face_value > rules.max_amount) return "budget_exhausted";
  return null;
}

/** The business day a claim counts in (the daily cap resets at the merchant's midnight). */
export const claimDay = (now: number, offsetMs: number) => businessDay(now, offsetMs);

export interface ClaimRow {
  channel_id: string;
  claimed_at: number;
  redeemed_at: number | null;
  converted_value: number;
  conversions: number;
}

const median = (xs: number[]) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
};

export interface Funnel {
  claims: number;
  redemptions: number;
  claim_to_redeem_rate: number | null;
  median_time_to_redeem_seconds: number | null;
  conversions: number;
  conversion_value: number;
  /** Face value of the codes redeemed: what the campaign cost. */
  cost: number;
  cost_per_acquisition: number | null;
  /** (conversion value − cost) / cost. */
  roi: number | null;
}

/** The funnel of a set of claims: claim → redeem → convert, with what it cost and brought back. */
export function funnel(rows: ClaimRow[], faceValue: number): Funnel {
  const redeemed = rows.filter((r) => r.redeemed_at !== null);
  const converted = rows.filter((r) => r.conversions > 0);
  const cost = redeemed.length * faceValue;
  const value = rows.reduce((s, r) => s + r.converted_value, 0);
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    claims: rows.length,
    redemptions: redeemed.length,
    claim_to_redeem_rate: rows.length ? round(redeemed.length / rows.length) : null,
    median_time_to_redeem_seconds: median(redeemed.map((r) => Math.round((r.redeemed_at! - r.claimed_at) / 1000))),
    conversions: converted.length,
    conversion_value: value,
    cost,
    cost_per_acquisition: converted.length ? Math.round(cost / converted.length) : null,
    roi: cost > 0 ? round((value - cost) / cost) : null,
  };
}
