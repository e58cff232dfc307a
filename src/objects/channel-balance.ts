/**
 * A channel's money inside its ChannelAccount: prepaid balance, credit limit, and funds
 * reserved by orders in flight. Synchronous over the object's SQL so a check and its
 * change are one step; available = balance + credit_limit − reserved never goes below zero.
 *
 * Tables (DDL in channel-account.schema.ts):
 *   account    one row: balance, credit_limit, reserved (minor units), currency (set by the first top-up)
 *   movements  id → kind topup|order|refund|credit_limit, amount, balance_after, order_id, note, actor, created_at
 */
export interface AccountState {
  balance: number;
  credit_limit: number;
  reserved: number;
  currency: string | null;
}

export const account = (sql: SqlStorage): AccountState =>
  sql
    .exec<{ balance: number; credit_limit: number; reserved: number; currency: string | null }>(
      "SELECT balance, credit_limit, reserved, currency FROM account WHERE id = 1",
    )
    .one();
export const availableFunds = (a: AccountState) => a.balance + a.credit_limit - a.reserved;

export type ReserveResult =
  | { ok: true }
  | { ok: false; reason: "insufficient_balance"; available: number }
  | { ok: false; reason: "currency_mismatch"; currency: string };

export function reserve(sql: SqlStorage, amount: number, currency: string): ReserveResult {
  const a = account(sql);
  if (a.currency && a.currency !== currency) return { ok: false, reason: "currency_mismatch", currency: a.currency };
  if (availableFunds(a) < amount) return { ok: false, reason: "insufficient_balance", available: availableFunds(a) };
  sql.exec("UPDATE account SET reserved = reserved + ? WHERE id = 1", amount);
  return { ok: true };
}

/** Turns a reservation into a debit (the order was fulfilled). */
export function commit(sql: SqlStorage, orderId: string, amount: number, now: number): void {
  sql.exec("UPDATE account SET reserved = reserved - ?, balance = balance - ? WHERE id = 1", amount, amount);
  sql.exec(
    `INSERT OR IGNORE INTO movements (id, kind, amount, balance_after, order_id, created_at)
      VALUES (?, 'order', ?, ?, ?, ?)`,
    `mov_${orderId}`,
    -amount,
    account(sql).balance,
    orderId,
    now,
  );
}

export function release(sql: SqlStorage, amount: number): void {
  sql.exec("UPDATE account SET reserved = reserved - ? WHERE id = 1", amount);
}

export type TopUpResult =
  | { ok: true; movement_id: string; balance: number; replayed: boolean }
  | { ok: false; reason: "currency_mismatch"; currency: string }
  | { ok: false; reason: "idempotency_mismatch" };

/** Credits the balance once per movement id (the caller's idempotency key). */
export function topUp(
  sql: SqlStorage,
  movementId: string,
  amount: number,
  currency: string,
  note: string | null,
  actor: string,
  now: number,
): TopUpResult {
  const requestHash = JSON.stringify([amount, currency, note]);
  const seen = sql
    .exec<{ request_hash: string }>("SELECT request_hash FROM topup_requests WHERE movement_id = ?", movementId)
    .toArray()[0];
  if (seen)
    return seen.request_hash === requestHash
      ? { ok: true, movement_id: movementId, balance: account(sql).balance, replayed: true }
      : { ok: false, reason: "idempotency_mismatch" };
  const a = account(sql);
  if (a.currency && a.currency !== currency) return { ok: false, reason: "currency_mismatch", currency: a.currency };
  sql.exec("UPDATE account SET balance = balance + ?, currency = ? WHERE id = 1", amount, currency);
  const balance = account(sql).balance;
  sql.exec(
    `INSERT INTO movements (id, kind, amount, balance_after, note, actor, created_at)
      VALUES (?, 'topup', ?, ?, ?, ?, ?)`,
    movementId,
    amount,
    balance,
    note,
    actor,
    now,
  );
  sql.exec("INSERT INTO topup_requests (movement_id, request_hash) VALUES (?, ?)", movementId, requestHash);
  return { ok: true, movement_id: movementId, balance, replayed: false };
}

export function setCreditLimit(sql: SqlStorage, limit: number, actor: string, now: number): void {
  sql.exec("UPDATE account SET credit_limit = ? WHERE id = 1", limit);
  sql.exec(
    `INSERT INTO movements (id, kind, amount, balance_after, note, actor, created_at)
      VALUES (?, 'credit_limit', ?, ?, 'credit limit set', ?, ?)`,
    `mov_cl_${now}_${Math.random().toString(36).slice(2, 8)}`,
    limit,
    account(sql).balance,
    actor,
    now,
  );
}

export function movements(sql: SqlStorage, limit: number, before?: string) {
  return sql
    .exec<{
      id: string;
      kind: string;
      amount: number;
      balance_after: number;
      order_id: string | null;
      note: string | null;
      actor: string | null;
      created_at: number;
    }>(
      `SELECT * FROM movements ${before ? "WHERE created_at < (SELECT created_at FROM movements WHERE id = ?)" : ""} ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...(before ? [before, limit] : [limit]),
    )
    .toArray();
}
