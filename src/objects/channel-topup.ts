/**
 * The top-up saga inside a ChannelAccount (the only writer of the channel's orders and money):
 *
 *   place    reserve funds → order `processing` + row in `topups` + order.processing, then enqueue
 *   begin    (consumer, each attempt) first time: commit the reserved money + order.paid; count the attempt
 *   finish   succeeded → order `fulfilled` + order.fulfilled
 *            failed    → order `failed` + refund movement (same transaction) + order.failed + order.refunded
 *
 * Every step is synchronous over the object's SQL and guarded by the row's status, so a redelivered
 * message, a provider notice racing the consumer, or a dead-letter pass never charges or refunds twice.
 *
 * Table `topups` (one row per top-up order; DDL in channel-account.schema.ts):
 *   order_id PK, channel_id, line (the top-up line), status processing|succeeded|failed,
 *   attempts (provider calls begun), dispatched 0|1 (money committed, provider may have it),
 *   enqueued 0|1 (TOPUPS message sent; the alarm re-sends when 0), provider_ref, last_error,
 *   refund_id, late_success 0|1 (provider said success after we refunded: for reconciliation), updated_at
 */
import { type OrderRecord, publicOrder } from "../domain/orders";
import { maskAccount, type Outcome, outTradeNo, type ProviderRequest, type TopupView } from "../domain/topup";
import * as funds from "./channel-balance";
import { loadOrder, releasePurchases, saveOrder } from "./channel-orders";
import { recordEvent } from "./outbox";

/** A TOPUPS queue message: ids only. */
export interface TopupMessage {
  order_id: string;
  channel_id: string;
}

type Row = {
  order_id: string;
  channel_id: string;
  line: number;
  status: "processing" | "succeeded" | "failed";
  attempts: number;
  dispatched: number;
  enqueued: number;
  provider_ref: string | null;
  last_error: string | null;
  refund_id: string | null;
  late_success: number;
};

const row = (sql: SqlStorage, orderId: string) =>
  sql.exec<Row>("SELECT * FROM topups WHERE order_id = ?", orderId).toArray()[0] ?? null;
const source = (order: OrderRecord) => `channel:${order.channel_id}`;

/** Step 1 (inside placeOrder, after the funds are reserved): the order becomes `processing`. The caller saves it. */
export function start(sql: SqlStorage, order: OrderRecord, now: number): void {
  order.status = "processing";
  const line = order.lines.findIndex((l) => l.topup);
  sql.exec(
    "INSERT OR IGNORE INTO topups (order_id, channel_id, line, status, updated_at) VALUES (?, ?, ?, 'processing', ?)",
    order.id,
    order.channel_id,
    line,
    now,
  );
  recordEvent(sql, source(order), "order.processing", { order: publicOrder(order) }, now);
}

/** Sends the queue message of every top-up not yet enqueued (after placeOrder, and from the alarm after a crash). */
export async function enqueuePending(sql: SqlStorage, queue: Queue<TopupMessage>): Promise<number> {
  const rows = sql
    .exec<{ order_id: string; channel_id: string }>(
      "SELECT order_id, channel_id FROM topups WHERE enqueued = 0 LIMIT 100",
    )
    .toArray();
  if (rows.length === 0) return 0;
  await queue.sendBatch(
    rows.map((r) => ({ body: { order_id: r.order_id, channel_id: r.channel_id }, contentType: "json" as const })),
  );
  for (const r of rows) sql.exec("UPDATE topups SET enqueued = 1 WHERE order_id = ?", r.order_id);
  return rows.length;
}

export type Begin =
  | { done: true; status: "succeeded" | "failed" | "missing" }
  | { done: false; mode: "submit" | "query" | "none"; request: ProviderRequest; attempts: number };

/**
 * One delivery of the order's message. `final` (the dead-letter pass) never dispatches: it only asks
 * where a dispatched top-up stands (mode query), or has nothing to ask (mode none).
 */
export function begin(sql: SqlStorage, orderId: string, final: boolean, now: number): Begin {
  const r = row(sql, orderId);
  const order = loadOrder(sql, orderId);
  if (!r || !order) return { done: true, status: "missing" };
  if (r.status !== "processing") return { done: true, status: r.status };
  const spec = order.lines[r.line];
  const request: ProviderRequest = {
    out_trade_no: outTradeNo(orderId, r.line),
    sku: spec.topup!.sku,
    account: spec.topup!.account,
    ...(spec.topup!.face_value !== null
      ? { amount: spec.topup!.face_value * spec.quantity, currency: spec.currency }
      : {}),
  };
  if (final) return { done: false, mode: r.dispatched ? "query" : "none", request, attempts: r.attempts };
  if (order.funds === "reserved") {
    // The money is taken when the top-up leaves for the provider: the ledger posts the sale from order.paid.
    funds.commit(sql, orderId, order.total_amount, now);
    const paid: OrderRecord = { ...order, funds: "committed", updated_at: now };
    saveOrder(sql, paid);
    recordEvent(
      sql,
      source(paid),
      "order.paid",
      {
        order: publicOrder(paid),
        payment: { method: "balance", amount: order.total_amount, currency: order.currency },
      },
      now,
    );
  }
  const attempts = r.attempts + 1;
  sql.exec("UPDATE topups SET attempts = ?, dispatched = 1, updated_at = ? WHERE order_id = ?", attempts, now, orderId);
  // Only the first attempt submits blindly; later ones ask first, so a slow success is never sent twice.
  return { done: false, mode: r.dispatched ? "query" : "submit", request, attempts };
}

/** A transient problem: kept for support, the message is retried by the consumer. */
export function note(sql: SqlStorage, orderId: string, error: string, now: number): void {
  sql.exec(
    "UPDATE topups SET last_error = ?, updated_at = ? WHERE order_id = ? AND status = 'processing'",
    error.slice(0, 200),
    now,
    orderId,
  );
}

export type Final = Extract<Outcome, { kind: "succeeded" | "failed" }>;

/** The end of the saga. Returns false when the top-up had already ended (nothing changes). */
export function finish(sql: SqlStorage, orderId: string, outcome: Final, now: number): boolean {
  const r = row(sql, orderId);
  const order = loadOrder(sql, orderId);
  if (!r || !order) return false;
  if (r.status !== "processing") {
    // Money already went back but the provider says it delivered: flag it for reconciliation, never re-charge silently.
    if (r.status === "failed" && outcome.kind === "succeeded" && !r.late_success) {
      sql.exec(
        `UPDATE topups
          SET late_success = 1, provider_ref = COALESCE(?, provider_ref),
            last_error = 'provider reported success after the refund', updated_at = ?
          WHERE order_id = ?`,
        outcome.provider_ref,
        now,
        orderId,
      );
    }
    return false;
  }
  const ref = outcome.provider_ref ?? r.provider_ref;
  if (outcome.kind === "succeeded") {
    let next: OrderRecord = { ...order, status: "fulfilled", failure_reason: null, updated_at: now };
    if (order.funds === "reserved") {
      funds.commit(sql, orderId, order.total_amount, now);
      next = { ...next, funds: "committed" };
      recordEvent(
        sql,
        source(next),
        "order.paid",
        {
          order: publicOrder(next),
          payment: { method: "balance", amount: order.total_amount, currency: order.currency },
        },
        now,
      );
    }
    sql.exec(
      "UPDATE topups SET status = 'succeeded', provider_ref = ?, last_error = NULL, updated_at = ? WHERE order_id = ?",
      ref,
      now,
      orderId,
    );
    saveOrder(sql, next);
    recordEvent(sql, source(next), "order.fulfilled", { order: publicOrder(next) }, now);
    return true;
  }
  const reason = outcome.reason.slice(0, 200);
  let next: OrderRecord = { ...order, status: "failed", failure_reason: "topup_failed", updated_at: now };
  let refundId: string | null = null;
  if (order.funds === "reserved") {
    funds.release(sql, order.total_amount);
    next = { ...next, funds: "released" };
  } else if (order.funds === "committed") {
    refundId = `rfd_${orderId.slice(4)}`;
    refund(sql, orderId, order.total_amount, reason, now);
  }
  sql.exec(
    `UPDATE topups SET status = 'failed', provider_ref = ?, last_error = ?, refund_id = ?, updated_at = ?
      WHERE order_id = ?`,
    ref,
    reason,
    refundId,
    now,
    orderId,
  );
  saveOrder(sql, next);
  releasePurchases(sql, orderId); // a failed top-up does not count against per-customer limits
  recordEvent(sql, source(next), "order.failed", { order: publicOrder(next) }, now);
  if (refundId) {
    recordEvent(
      sql,
      source(next),
      "order.refunded",
      {
        order: publicOrder(next),
        refund: {
          id: refundId,
          amount: order.total_amount,
          currency: order.currency,
          to: "balance",
          reason,
          was_fulfilled: false,
        },
      },
      now,
    );
  }
  return true;
}

/** Gives committed money back to the balance (movement kind `refund`, one per order). */
function refund(sql: SqlStorage, orderId: string, amount: number, reason: string, now: number): void {
  sql.exec("UPDATE account SET balance = balance + ? WHERE id = 1", amount);
  sql.exec(
    `INSERT INTO movements (id, kind, amount, balance_after, order_id, note, actor, created_at)
      VALUES (?, 'refund', ?, ?, ?, ?, 'topup', ?)`,
    `mov_refund_${orderId}`,
    amount,
    funds.account(sql).balance,
    orderId,
    `top-up failed: ${reason}`.slice(0, 200),
    now,
  );
}

/** The top-up part of an order, masked for display; null for other orders. */
export function view(sql: SqlStorage, order: OrderRecord): TopupView | null {
  const r = row(sql, order.id);
  if (!r) return null;
  return {
    status: r.status,
    account: maskAccount(order.lines[r.line].topup?.account ?? ""),
    provider_ref: r.provider_ref,
    attempts: r.attempts,
    last_error: r.last_error,
  };
}
