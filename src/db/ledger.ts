/** Ledger queries on D1: posted sales, balances, totals, statements (docs/ledger.md). Sign: amount > 0 debit. */
import type { AccountKind, Leg } from "../domain/ledger";

/** `units`: the order's quantity, null for sales posted before recognition on redemption (revenue recognised at sale). */
export interface PostedSale {
  channel_id: string;
  currency: string;
  created_at: number;
  units: number | null;
  legs: Leg[];
}

/** The legs each order's sale posted (by the sale's source key), so a refund reverses exactly those. */
export async function loadPostedLegs(db: D1Database, orderIds: string[]): Promise<Map<string, PostedSale>> {
  const out = new Map<string, PostedSale>();
  if (orderIds.length === 0) return out;
  const { results } = await db
    .prepare(
      `SELECT t.order_id, t.channel_id AS order_channel, t.currency, t.created_at, t.units, e.line, e.account_id, e.channel_id, e.amount, a.owner, a.kind
       FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn_id = t.id LEFT JOIN ledger_accounts a ON a.id = e.account_id
       WHERE t.source_key IN (SELECT 'sale:' || value FROM json_each(?1)) ORDER BY t.order_id, e.line`,
    )
    .bind(JSON.stringify([...new Set(orderIds)]))
    .all<{
      order_id: string;
      order_channel: string;
      currency: string;
      created_at: number;
      units: number | null;
      line: number | null;
      account_id: string | null;
      channel_id: string | null;
      amount: number | null;
      owner: string | null;
      kind: string | null;
    }>();
  for (const r of results) {
    let sale = out.get(r.order_id);
    if (!sale) {
      sale = { channel_id: r.order_channel, currency: r.currency, created_at: r.created_at, units: r.units, legs: [] };
      out.set(r.order_id, sale);
    }
    if (r.account_id !== null)
      sale.legs.push({
        account: r.account_id,
        owner: r.owner ?? "platform",
        kind: (r.kind ?? "revenue") as AccountKind,
        channel_id: r.channel_id,
        amount: r.amount ?? 0,
      });
  }
  return out;
}

export interface ChannelLedgerBalance {
  channel_id: string;
  currency: string;
  /** Prepaid balance owed to the channel (credit-positive: equals the ChannelAccount balance; negative = credit used). */
  balance: number;
  /** Commission payable to the channel (credit-positive). */
  commission: number;
}

/** Per channel and currency: the balance and commission accounts, credit-positive, for reconciliation. */
export async function ledgerChannelBalances(db: D1Database, channelId?: string): Promise<ChannelLedgerBalance[]> {
  const { results } = await db
    .prepare(
      `SELECT a.owner AS channel_id, e.currency,
              -COALESCE(SUM(CASE WHEN a.kind = 'balance' THEN e.amount END), 0) AS balance,
              -COALESCE(SUM(CASE WHEN a.kind = 'commission' THEN e.amount END), 0) AS commission
       FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
       WHERE a.kind IN ('balance', 'commission') AND (?1 IS NULL OR a.owner = ?1)
       GROUP BY a.owner, e.currency ORDER BY a.owner, e.currency`,
    )
    .bind(channelId ?? null)
    .all<ChannelLedgerBalance>();
  return results;
}

/** The sum of every entry per currency: 0 in a sound ledger. Also counts transactions that do not sum to 0. */
export async function ledgerTotals(
  db: D1Database,
): Promise<{ currency: string; total: number; entries: number; unbalanced_transactions: number }[]> {
  const [totals, unbalanced] = await db.batch<Record<string, unknown>>([
    db.prepare(
      "SELECT currency, SUM(amount) AS total, COUNT(*) AS entries FROM ledger_entries GROUP BY currency ORDER BY currency",
    ),
    db.prepare(
      "SELECT currency, COUNT(*) AS n FROM (SELECT txn_id, currency FROM ledger_entries GROUP BY txn_id, currency HAVING SUM(amount) <> 0) GROUP BY currency",
    ),
  ]);
  const bad = new Map((unbalanced.results as { currency: string; n: number }[]).map((r) => [r.currency, r.n]));
  return (totals.results as { currency: string; total: number; entries: number }[]).map((r) => ({
    ...r,
    unbalanced_transactions: bad.get(r.currency) ?? 0,
  }));
}

/** Gateway money the ledger booked into clearing from sales whose event time is in [from, to), per currency and gateway. */
export async function ledgerGatewaySales(
  db: D1Database,
  from: number,
  to: number,
): Promise<{ currency: string; gateway: string; amount: number }[]> {
  const { results } = await db
    .prepare(
      `SELECT e.currency, substr(a.id, 9, length(a.id) - 17) AS gateway, SUM(e.amount) AS amount
       FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id JOIN ledger_accounts a ON a.id = e.account_id
       WHERE t.type = 'sale' AND a.kind = 'gateway_clearing' AND t.created_at >= ?1 AND t.created_at < ?2
       GROUP BY e.currency, a.id ORDER BY e.currency, a.id`,
    )
    .bind(from, to)
    .all<{ currency: string; gateway: string; amount: number }>();
  return results;
}

/**
 * Events parked because what they wait for is not in the ledger yet: refunds and redemptions (their sale),
 * reversals (their recognition). Should be empty once the queue drained (redemptions of root orders are dropped).
 */
export async function ledgerParked(
  db: D1Database,
): Promise<{ event_id: string; order_id: string; reason: string; created_at: number }[]> {
  return (
    await db
      .prepare("SELECT event_id, order_id, reason, created_at FROM ledger_pending ORDER BY created_at LIMIT 1000")
      .all<{ event_id: string; order_id: string; reason: string; created_at: number }>()
  ).results;
}

/** Per order: the merchant share still deferred and the revenue recognised (both credit-positive), for checks. */
export async function ledgerRecognition(
  db: D1Database,
  orderId: string,
): Promise<{ deferred: number; recognised: number }> {
  const row = await db
    .prepare(
      `SELECT -COALESCE(SUM(CASE WHEN e.account_id = 'merchant:deferred_revenue' THEN e.amount END), 0) AS deferred,
              -COALESCE(SUM(CASE WHEN e.account_id = 'merchant:revenue' AND t.type IN ('recognition', 'recognition_reversal') THEN e.amount END), 0) AS recognised
       FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id WHERE t.order_id = ?1`,
    )
    .bind(orderId)
    .first<{ deferred: number; recognised: number }>();
  return row ?? { deferred: 0, recognised: 0 };
}

export interface StatementEntry {
  txn_id: string;
  type: string;
  order_id: string | null;
  memo: string | null;
  created_at: number;
  amount: number;
}
export interface StatementAccount {
  kind: "balance" | "commission";
  currency: string;
  opening: number;
  entries: (StatementEntry & { running_balance: number })[];
  closing: number;
}

/** Cap on entries per statement: a longer period must be split (the route answers 422). */
export const STATEMENT_MAX_ENTRIES = 5000;

/**
 * A channel's accounts over [from, to): opening balance, entries with running balance, closing balance.
 * Amounts are credit-positive (from the channel's side: what the merchant owes it grows with a positive amount).
 */
export async function channelStatement(
  db: D1Database,
  channelId: string,
  from: number,
  to: number,
): Promise<{ accounts: StatementAccount[]; truncated: boolean }> {
  const [opening, rows] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `SELECT a.kind, e.currency, -SUM(e.amount) AS opening FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
       WHERE a.owner = ?1 AND a.kind IN ('balance', 'commission') AND e.created_at < ?2 GROUP BY a.kind, e.currency`,
      )
      .bind(channelId, from),
    db
      .prepare(
        `SELECT a.kind, e.currency, e.txn_id, t.type, t.order_id, t.memo, e.created_at, -e.amount AS amount
       FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.txn_id
       WHERE a.owner = ?1 AND a.kind IN ('balance', 'commission') AND e.created_at >= ?2 AND e.created_at < ?3
       ORDER BY e.created_at, e.txn_id, e.line LIMIT ?4`,
      )
      .bind(channelId, from, to, STATEMENT_MAX_ENTRIES + 1),
  ]);
  const byAccount = new Map<string, StatementAccount>();
  const get = (kind: "balance" | "commission", currency: string) => {
    const key = `${kind}:${currency}`;
    let acc = byAccount.get(key);
    if (!acc) {
      acc = { kind, currency, opening: 0, entries: [], closing: 0 };
      byAccount.set(key, acc);
    }
    return acc;
  };
  for (const r of opening.results as unknown as {
    kind: "balance" | "commission";
    currency: string;
    opening: number;
  }[]) {
    const acc = get(r.kind, r.currency);
    acc.opening = acc.closing = r.opening;
  }
  const entries = rows.results as unknown as (StatementEntry & { kind: "balance" | "commission"; currency: string })[];
  for (const { kind, currency, ...e } of entries.slice(0, STATEMENT_MAX_ENTRIES)) {
    const acc = get(kind, currency);
    acc.closing += e.amount;
    acc.entries.push({ ...e, running_balance: acc.closing });
  }
  const accounts = [...byAccount.values()].sort(
    (a, b) => a.kind.localeCompare(b.kind) || a.currency.localeCompare(b.currency),
  );
  return { accounts, truncated: entries.length > STATEMENT_MAX_ENTRIES };
}
