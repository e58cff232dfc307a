/**
 * Campaign: one object per campaign (`idFromName(campaign id)`) that decides every claim, one at a time, from its
 * own exact counts, so a budget (total, daily, money) and each customer's limit hold under any concurrency. It
 * gets the rules with each claim from the catalog (D1), so a change (a raised budget, a pause) applies to the next
 * claim while the counts stay exact. It only reserves: the Worker then places the claim's order (exactly once, keyed by the claim id) and confirms it,
 * or releases the reservation when no code was left, which gives the budget back.
 *
 * A reservation whose Worker died before confirming keeps counting (the budget is never overshot; at worst a
 * claim is held until the same Idempotency-Key is replayed, which finishes it with the same order).
 *
 * Tables:
 *   claims  id, customer_ref, idem_key (unique), state reserved | issued | released, day, order_id, expires_at
 */
import { DurableObject } from "cloudflare:workers";
import { type CampaignRules, type ClaimRefusal, claimDay, claimVerdict } from "../domain/campaigns";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS claims (
  id TEXT PRIMARY KEY,
  customer_ref TEXT NOT NULL,
  idem_key TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  day INTEGER NOT NULL,
  order_id TEXT,
  expires_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_customer ON claims (customer_ref, state);
CREATE INDEX IF NOT EXISTS claims_day ON claims (day, state);
`;

export type ClaimRecord = {
  id: string;
  customer_ref: string;
  state: "reserved" | "issued" | "released";
  order_id: string | null;
  expires_at: number | null;
  created_at: number;
};

export type ClaimDecision =
  | { kind: "new" | "replay"; claim: ClaimRecord }
  | { kind: "refused"; reason: ClaimRefusal | "idempotency_mismatch" };

export function campaignObject(env: Env, campaignId: string): DurableObjectStub<Campaign> {
  return env.CAMPAIGN.get(env.CAMPAIGN.idFromName(campaignId));
}

export class Campaign extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  private byKey(idemKey: string): ClaimRecord | undefined {
    return this.sql
      .exec<ClaimRecord>(
        "SELECT id, customer_ref, state, order_id, expires_at, created_at FROM claims WHERE idem_key = ?",
        idemKey,
      )
      .toArray()[0];
  }

  /**
   * A claim for a customer under an Idempotency-Key: the same key gives back the same claim (for the same
   * customer); otherwise the rules are checked against the counts of claims not released, and a new claim is
   * reserved.
   */
  claim(
    rules: CampaignRules,
    req: { claimId: string; customerRef: string; idemKey: string; now: number; dayOffsetMs: number },
  ): ClaimDecision {
    const seen = this.byKey(req.idemKey);
    if (seen) {
      if (seen.customer_ref !== req.customerRef) return { kind: "refused", reason: "idempotency_mismatch" };
      // A released claim (no code was left) may be tried again under the same key.
      if (seen.state !== "released") return { kind: "replay", claim: seen };
      this.sql.exec("DELETE FROM claims WHERE id = ?", seen.id);
    }
    const day = claimDay(req.now, req.dayOffsetMs);
    const count = (where: string, ...binds: unknown[]) =>
      this.sql
        .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM claims WHERE state != 'released' ${where}`, ...binds)
        .one().n;
    const refusal = claimVerdict(
      rules,
      { total: count(""), today: count("AND day = ?", day), customer: count("AND customer_ref = ?", req.customerRef) },
      req.now,
    );
    if (refusal) return { kind: "refused", reason: refusal };
    this.sql.exec(
      "INSERT INTO claims (id, customer_ref, idem_key, state, day, created_at) VALUES (?, ?, ?, 'reserved', ?, ?)",
      req.claimId,
      req.customerRef,
      req.idemKey,
      day,
      req.now,
    );
    return {
      kind: "new",
      claim: {
        id: req.claimId,
        customer_ref: req.customerRef,
        state: "reserved",
        order_id: null,
        expires_at: null,
        created_at: req.now,
      },
    };
  }

  /** The claim's order was placed: it holds its code now. */
  confirm(claimId: string, orderId: string, expiresAt: number | null): void {
    this.sql.exec(
      "UPDATE claims SET state = 'issued', order_id = ?, expires_at = ? WHERE id = ? AND state = 'reserved'",
      orderId,
      expiresAt,
      claimId,
    );
  }

  /** No code could be issued (out of stock or quota): the reservation gives its place in the budget back. */
  release(claimId: string): void {
    this.sql.exec("UPDATE claims SET state = 'released' WHERE id = ? AND state = 'reserved'", claimId);
  }

  /** Exact counts for the campaign's page. */
  counts(): { reserved: number; issued: number } {
    const rows = this.sql
      .exec<{ state: string; n: number }>("SELECT state, COUNT(*) AS n FROM claims GROUP BY state")
      .toArray();
    const n = (s: string) => rows.find((r) => r.state === s)?.n ?? 0;
    return { reserved: n("reserved"), issued: n("issued") };
  }
}
