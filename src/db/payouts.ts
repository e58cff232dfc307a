/** Payout batches of commission payable on D1 (docs/ledger.md, "Payouts"). */
import type { Posting } from "../domain/ledger";
import { postingStatements } from "./ledger-posting";

export interface PayoutRow {
  id: string;
  channel_id: string;
  currency: string;
  amount: number;
  status: "open" | "paid";
  reference: string | null;
  created_at: number;
  paid_at: number | null;
}

/** The payout if its channel lies in the subtree at `scopePath`; otherwise null, exactly like an unknown id. */
export async function payoutInScope(db: D1Database, id: string, scopePath: string): Promise<PayoutRow | null> {
  return db
    .prepare(
      "SELECT p.* FROM payouts p JOIN channels c ON c.id = p.channel_id WHERE p.id = ?1 AND substr(c.path, 1, length(?2)) = ?2",
    )
    .bind(id, scopePath)
    .first<PayoutRow>();
}

/** The currencies a ledger account has entries in (to tell whether a payout must name one). */
export async function accountCurrencies(db: D1Database, accountId: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT DISTINCT currency FROM ledger_entries WHERE account_id = ?1")
    .bind(accountId)
    .all<{ currency: string }>();
  return results.map((r) => r.currency);
}

/**
 * Opens a payout of everything the channel's commission account is owed in `currency` and no open payout holds yet:
 * one atomic INSERT … SELECT, so two concurrent requests never pay the same money twice. Null when nothing is owed.
 */
export async function createPayout(
  db: D1Database,
  p: { id: string; channelId: string; currency: string; by: string; now: number; account: string },
): Promise<PayoutRow | null> {
  return db
    .prepare(
      `INSERT INTO payouts (id, channel_id, currency, amount, status, created_by, created_at)
         SELECT ?1, ?2, ?3, owed, 'open', ?4, ?5 FROM (
           SELECT -COALESCE((SELECT SUM(amount) FROM ledger_entries WHERE account_id = ?6 AND currency = ?3), 0)
                  - COALESCE((SELECT SUM(amount) FROM payouts WHERE channel_id = ?2 AND currency = ?3 AND status = 'open'), 0) AS owed
         ) WHERE owed > 0 RETURNING *`,
    )
    .bind(p.id, p.channelId, p.currency, p.by, p.now, p.account)
    .first<PayoutRow>();
}

/** Payouts of the subtree at `scopePath`, newest first, optionally of one channel and status (limit + 1 rows). */
export async function listPayouts(
  db: D1Database,
  scopePath: string,
  q: { channel_id?: string; status?: string; cursor?: string; limit: number },
): Promise<PayoutRow[]> {
  const { results } = await db
    .prepare(
      `SELECT p.* FROM payouts p JOIN channels c ON c.id = p.channel_id
         WHERE substr(c.path, 1, length(?1)) = ?1 AND (?2 IS NULL OR p.channel_id = ?2) AND (?3 IS NULL OR p.status = ?3) AND (?4 IS NULL OR p.id < ?4)
         ORDER BY p.id DESC LIMIT ?5`,
    )
    .bind(scopePath, q.channel_id ?? null, q.status ?? null, q.cursor ?? null, q.limit + 1)
    .all<PayoutRow>();
  return results;
}

/**
 * Marks an open payout paid and posts it, in one D1 batch (one transaction): the status change and the posting
 * commit together; the posting's source key makes it once-only on its own too. False if it was not open.
 */
export async function markPayoutPaid(
  db: D1Database,
  p: { id: string; now: number; by: string; reference: string | null },
  posting: Posting,
): Promise<boolean> {
  const [update] = await db.batch([
    db
      .prepare(
        "UPDATE payouts SET status = 'paid', paid_at = ?2, paid_by = ?3, reference = ?4 WHERE id = ?1 AND status = 'open'",
      )
      .bind(p.id, p.now, p.by, p.reference),
    ...postingStatements(db, posting, p.now),
  ]);
  return update.meta.changes !== 0;
}
