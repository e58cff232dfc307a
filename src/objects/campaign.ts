/**
 * Campaign: one object per campaign (`idFromName(campaign id)`) that decides every claim, one at a time, from its
 * own exact counts, so a budget (total, daily, money) and each customer's limit hold under any concurrency. It
 * gets the rules with each claim from the catalog (D1), so a change (a raised budget, a pause) applies to the next
 * claim while the counts stay exact. It only reserves: the Worker then places the claim's order (exactly once, keyed by the claim id) and confirms it,
 * or releases the reservation when no code was left, which gives the budget back.
 *
 * A reservation whose Worker died before confirming keeps counting (the budget is never overshot) until the same
 * Idempotency-Key is replayed or the five-minute cron's sweep finishes it (lib/campaign-claim.ts sweepReservations:
 * the same order, keyed by the claim, then confirm; or release when no code is left).
 *
 * Tables:
 *   claims  id, customer_ref, idem_key (unique), state reserved | issued | released, day, order_id, expires_at
 *   counts  'total' and 'day:<business day>' → claims not released, kept with every change so a claim costs
 *           the same with 10 or 10 million claims before it (a customer's count reads the customer's index)
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
CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
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
    // Objects from before the counts table: derive it once from the claims.
    if (this.sql.exec("SELECT 1 FROM counts LIMIT 1").toArray().length === 0)
      this.sql.exec(
        `INSERT INTO counts (key, n) SELECT 'total', COUNT(*) FROM claims WHERE state != 'released'
         UNION ALL SELECT 'day:' || day, COUNT(*) FROM claims WHERE state != 'released' GROUP BY day`,
      );
  }

  private count(key: string): number {
    return this.sql.exec<{ n: number }>("SELECT n FROM counts WHERE key = ?", key).toArray()[0]?.n ?? 0;
  }

  private add(day: number, delta: number): void {
    for (const key of ["total", `day:${day}`])
      this.sql.exec(
        "INSERT INTO counts (key, n) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET n = n + excluded.n",
        key,
        delta,
      );
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
      this.sql.exec("DELETE FROM claims WHERE id = ?", seen.id); // released: already out of the counts
    }
    const day = claimDay(req.now, req.dayOffsetMs);
    const customer = this.sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM claims WHERE customer_ref = ? AND state != 'released'",
        req.customerRef,
      )
      .one().n;
    const refusal = claimVerdict(
      rules,
      { total: this.count("total"), today: this.count(`day:${day}`), customer },
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
    this.add(day, 1);
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
    const row = this.sql
      .exec<{ day: number }>("SELECT day FROM claims WHERE id = ? AND state = 'reserved'", claimId)
      .toArray()[0];
    if (!row) return;
    this.sql.exec("UPDATE claims SET state = 'released' WHERE id = ?", claimId);
    this.add(row.day, -1);
  }

  /** Reservations older than `before` (ms): claims whose Worker may have died between reserving and confirming. */
  staleReservations(before: number, limit = 100): ClaimRecord[] {
    return this.sql
      .exec<ClaimRecord>(
        `SELECT id, customer_ref, state, order_id, expires_at, created_at FROM claims
         WHERE state = 'reserved' AND created_at < ? ORDER BY created_at LIMIT ?`,
        before,
        limit,
      )
      .toArray();
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
