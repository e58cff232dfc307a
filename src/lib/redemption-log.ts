/**
 * The redemption log of a subtree as the API shows it: redemptions (redeemed or reversed), or with
 * `outcome=failed` the failed verify / redeem attempts with their reason (never the code that was tried, never
 * the address it came from). Newest first, `limit + 1` entries so the caller can tell there are more. Used by
 * GET /v1/redemptions and by export jobs.
 */
import { listRedemptionAttempts, listRedemptions } from "../db/redemptions";

export interface RedemptionLogQuery {
  outcome: "succeeded" | "failed";
  channel_id?: string;
  product_id?: string;
  order_id?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit: number;
}

export interface RedemptionLogEntry {
  id: string;
  object: "redemption" | "redemption_attempt";
  outcome: "redeemed" | "reversed" | "failed";
  reason: string | null;
  action: "verify" | "redeem" | null;
  product_id: string | null;
  channel_id: string;
  order_id: string | null;
  last4: string | null;
  redeemer: string | null;
  at: string;
  reversed_at: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function redemptionLog(
  db: D1Database,
  scopePath: string,
  q: RedemptionLogQuery,
): Promise<RedemptionLogEntry[]> {
  const filter = {
    ...q,
    from: q.from ? Date.parse(q.from) : undefined,
    to: q.to ? Date.parse(q.to) : undefined,
  };
  if (q.outcome === "failed") {
    const rows = await listRedemptionAttempts(db, scopePath, { ...filter, order_id: undefined });
    return rows.map((r) => ({
      id: r.id,
      object: "redemption_attempt" as const,
      outcome: "failed" as const,
      reason: r.result,
      action: r.action === "verify" ? ("verify" as const) : ("redeem" as const),
      product_id: r.product_id,
      channel_id: r.channel_id,
      order_id: null,
      last4: null,
      redeemer: null,
      at: iso(r.created_at)!,
      reversed_at: null,
    }));
  }
  const rows = await listRedemptions(db, scopePath, filter);
  return rows.map((r) => ({
    id: r.id,
    object: "redemption" as const,
    outcome: r.reversed_at === null ? ("redeemed" as const) : ("reversed" as const),
    reason: null,
    action: null,
    product_id: r.product_id,
    channel_id: r.channel_id,
    order_id: r.order_id,
    last4: r.last4,
    redeemer: r.redeemer,
    at: iso(r.redeemed_at)!,
    reversed_at: iso(r.reversed_at),
  }));
}
