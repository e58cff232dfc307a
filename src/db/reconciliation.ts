/** What reconciliation (src/lib/reconciliation.ts) reads from D1 (projections, notices, progress), and its runs. */
import type { CodeCounts } from "../domain/reconciliation";
import type { StoredRun } from "../lib/reconciliation";

/** A page of runs, newest first, optionally of one status (limit + 1 rows: the caller tells whether there is more). */
export async function listReconciliationRuns(
  db: D1Database,
  q: { status?: string; cursor?: string; limit: number },
): Promise<StoredRun[]> {
  const { results } = await db
    .prepare(
      "SELECT * FROM reconciliation_runs WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3",
    )
    .bind(q.status ?? null, q.cursor ?? null, q.limit + 1)
    .all<StoredRun>();
  return results;
}

/** How many events the projections applied, per source (object). */
export async function appliedBySource(db: D1Database): Promise<Map<string, number>> {
  const { results } = await db
    .prepare("SELECT source, applied FROM source_progress")
    .all<{ source: string; applied: number }>();
  return new Map(results.map((r) => [r.source, r.applied]));
}

/** Products that hold codes (every kind but topup), with their shard counts, by id. */
export async function inventoryProductShards(db: D1Database): Promise<{ id: string; shards: number }[]> {
  return (
    await db
      .prepare("SELECT id, shards FROM products WHERE kind != 'topup' ORDER BY id")
      .all<{ id: string; shards: number }>()
  ).results;
}

export interface ProjectedCodeCount {
  product_id: string;
  shard: number;
  status: keyof CodeCounts;
  n: number;
}

/** How many indexed codes are issued, redeemed and voided, per product shard. */
export async function projectedCodeCounts(db: D1Database): Promise<ProjectedCodeCount[]> {
  const { results } = await db
    .prepare(
      "SELECT product_id, shard, status, COUNT(*) AS n FROM code_index WHERE status IN ('issued', 'redeemed', 'voided') GROUP BY product_id, shard, status",
    )
    .all<ProjectedCodeCount>();
  return results;
}

/** Every channel's id, the root's too, by id. */
export async function allChannelIds(db: D1Database): Promise<string[]> {
  return (await db.prepare("SELECT id FROM channels ORDER BY id").all<{ id: string }>()).results.map((r) => r.id);
}

export interface GatewayRefundNotice {
  order_id: string;
  gateway: string;
  channel_id: string | null;
  amount: number;
  /** The order's projected status, null if D1 does not know the order. */
  status: string | null;
}

/** Refunds gateways noted between `start` and `end` (epoch ms, end exclusive), summed per order. */
export async function gatewayRefundNotices(db: D1Database, start: number, end: number): Promise<GatewayRefundNotice[]> {
  const { results } = await db
    .prepare(
      `SELECT n.order_id, MAX(n.gateway) AS gateway, MAX(n.channel_id) AS channel_id, SUM(COALESCE(n.amount, 0)) AS amount, MAX(o.status) AS status
       FROM payment_notices n LEFT JOIN orders o ON o.id = n.order_id
       WHERE n.outcome = 'refund_noted' AND n.received_at >= ?1 AND n.received_at < ?2 AND n.order_id IS NOT NULL GROUP BY n.order_id`,
    )
    .bind(start, end)
    .all<GatewayRefundNotice>();
  return results;
}

export interface ReceivedPayment {
  order_id: string;
  channel_id: string | null;
  gateway: string;
  currency: string;
  amount: number;
}

/** Payment notices received between `start` and `end` (end exclusive) with one of these outcomes, summed per order. */
export async function receivedPayments(
  db: D1Database,
  start: number,
  end: number,
  outcomes: string[],
): Promise<ReceivedPayment[]> {
  const { results } = await db
    .prepare(
      `SELECT order_id, MAX(channel_id) AS channel_id, MAX(gateway) AS gateway, MAX(currency) AS currency, SUM(amount) AS amount
       FROM payment_notices WHERE received_at >= ?1 AND received_at < ?2 AND order_id IS NOT NULL
         AND outcome IN (SELECT value FROM json_each(?3)) GROUP BY order_id ORDER BY order_id`,
    )
    .bind(start, end, JSON.stringify(outcomes))
    .all<ReceivedPayment>();
  return results;
}

/** The projected status of each of these orders that D1 knows. */
export async function projectedOrderStatuses(db: D1Database, orderIds: string[]): Promise<Map<string, string>> {
  const { results } = await db
    .prepare("SELECT id, status FROM orders WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(orderIds))
    .all<{ id: string; status: string }>();
  return new Map(results.map((r) => [r.id, r.status]));
}

/** Stores a run (its differences, lagging sources and checks as JSON). */
export async function insertReconciliationRun(db: D1Database, run: StoredRun): Promise<void> {
  await db
    .prepare(
      "INSERT INTO reconciliation_runs (id, date, trigger, status, differences, lagging, checked, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(run.id, run.date, run.trigger, run.status, run.differences, run.lagging, run.checked, run.created_at)
    .run();
}
