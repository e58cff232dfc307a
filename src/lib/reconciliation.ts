/**
 * Gathers the four sides of a reconciliation (Durable Objects, D1 projections, ledger, gateway
 * notices), compares them with the pure `reconcile`, stores the run, and on any difference emits
 * `reconciliation.mismatch`. Used by GET /v1/reconciliation and by the nightly cron.
 */

import { ledgerChannelBalances, ledgerTotals, loadPostedLegs } from "../db/ledger";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import {
  type ChannelMoneyCheck,
  type CodeCounts,
  dayBounds,
  type GatewayRefundCheck,
  type PaymentCheck,
  type PoolCheck,
  type ReconciliationOutcome,
  reconcile,
} from "../domain/reconciliation";
import { channelAccount } from "../objects/channel-account";
import type { DomainEvent } from "../objects/outbox";
import { poolName, skuPool } from "../objects/sku-pool";

/** The nightly reconciliation of the previous UTC day (wrangler.toml [triggers]; the module entry may export only handlers and classes). */
export const RECONCILIATION_CRON = "15 0 * * *";

/** Durable Object calls in flight at once: enough to be quick, few enough not to crowd the Worker. */
const FAN_OUT = 16;
/**
 * Notices whose money was taken: accepted, late ones (delivered late or refunded), and a second payment of
 * an order already paid (the ledger books one sale, so a double payment shows up as a difference to refund).
 */
const MONEY_RECEIVED = ["accepted", "late_fulfilled", "late_refunded", "double_payment"];

export interface ReconciliationRun extends ReconciliationOutcome {
  id: string;
  object: "reconciliation";
  date: string;
  trigger: "api" | "cron";
  created_at: string;
}

async function mapLimited<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FAN_OUT, items.length) }, worker));
  return out;
}

async function appliedBySource(db: D1Database): Promise<Map<string, number>> {
  const { results } = await db
    .prepare("SELECT source, applied FROM source_progress")
    .all<{ source: string; applied: number }>();
  return new Map(results.map((r) => [r.source, r.applied]));
}

async function poolChecks(env: Env, applied: Map<string, number>): Promise<PoolCheck[]> {
  const db = env.DB;
  const products = (
    await db
      .prepare("SELECT id, shards FROM products WHERE kind != 'topup' ORDER BY id")
      .all<{ id: string; shards: number }>()
  ).results;
  const { results: rows } = await db
    .prepare(
      "SELECT product_id, shard, status, COUNT(*) AS n FROM code_index WHERE status IN ('issued', 'redeemed', 'voided') GROUP BY product_id, shard, status",
    )
    .all<{ product_id: string; shard: number; status: keyof CodeCounts; n: number }>();
  const projected = new Map<string, CodeCounts>();
  for (const r of rows) {
    const key = `${r.product_id}:${r.shard}`;
    const counts = projected.get(key) ?? { issued: 0, redeemed: 0, voided: 0 };
    counts[r.status] = r.n;
    projected.set(key, counts);
  }
  const refs = products.flatMap((p) => Array.from({ length: p.shards }, (_, shard) => ({ productId: p.id, shard })));
  return mapLimited(refs, async (ref) => {
    const view = await skuPool(env, ref).reconcileView(ref);
    return {
      product_id: ref.productId,
      shard: ref.shard,
      truth: { issued: view.counts.issued, redeemed: view.counts.redeemed, voided: view.counts.voided },
      projected: projected.get(`${ref.productId}:${ref.shard}`) ?? { issued: 0, redeemed: 0, voided: 0 },
      caught_up: (applied.get(poolName(ref)) ?? 0) >= view.position,
    };
  });
}

async function channelChecks(env: Env, applied: Map<string, number>): Promise<ChannelMoneyCheck[]> {
  // The root too: it holds no balance (0 = 0 in the ledger), but its progress tells whether its own shop's payments are current.
  const ids = (await env.DB.prepare("SELECT id FROM channels ORDER BY id").all<{ id: string }>()).results.map(
    (r) => r.id,
  );
  const ledger = new Map(
    (await ledgerChannelBalances(env.DB)).map((b) => [`${b.channel_id}:${b.currency}`, b.balance]),
  );
  return mapLimited(ids, async (id) => {
    const view = await channelAccount(env, id).reconcileView();
    return {
      channel_id: id,
      truth_balance: view.balance,
      ledger_balance: view.currency ? (ledger.get(`${id}:${view.currency}`) ?? 0) : 0,
      caught_up: (applied.get(`channel:${id}`) ?? 0) >= view.position,
    };
  });
}

/** Refunds a gateway reported on the day (console refunds, chargebacks) for orders still delivered. */
async function gatewayRefundChecks(
  env: Env,
  date: string,
  channelsCaughtUp: Map<string, boolean>,
): Promise<GatewayRefundCheck[]> {
  const { start, end } = dayBounds(date);
  const { results } = await env.DB.prepare(
    `SELECT n.order_id, MAX(n.gateway) AS gateway, MAX(n.channel_id) AS channel_id, SUM(COALESCE(n.amount, 0)) AS amount, MAX(o.status) AS status
       FROM payment_notices n LEFT JOIN orders o ON o.id = n.order_id
       WHERE n.outcome = 'refund_noted' AND n.received_at >= ?1 AND n.received_at < ?2 AND n.order_id IS NOT NULL GROUP BY n.order_id`,
  )
    .bind(start, end)
    .all<{ order_id: string; gateway: string; channel_id: string | null; amount: number; status: string | null }>();
  return results.map((r) => ({
    order_id: r.order_id,
    gateway: r.gateway,
    amount: r.amount,
    projected_status: r.status,
    caught_up: r.channel_id ? (channelsCaughtUp.get(r.channel_id) ?? true) : true,
  }));
}

async function paymentChecks(env: Env, date: string, channelsCaughtUp: Map<string, boolean>): Promise<PaymentCheck[]> {
  const { start, end } = dayBounds(date);
  const { results: notices } = await env.DB.prepare(
    `SELECT order_id, MAX(channel_id) AS channel_id, MAX(gateway) AS gateway, MAX(currency) AS currency, SUM(amount) AS amount
       FROM payment_notices WHERE received_at >= ?1 AND received_at < ?2 AND order_id IS NOT NULL
         AND outcome IN (SELECT value FROM json_each(?3)) GROUP BY order_id ORDER BY order_id`,
  )
    .bind(start, end, JSON.stringify(MONEY_RECEIVED))
    .all<{ order_id: string; channel_id: string | null; gateway: string; currency: string; amount: number }>();
  if (notices.length === 0) return [];
  const orderIds = notices.map((n) => n.order_id);
  const [sales, statuses] = await Promise.all([
    loadPostedLegs(env.DB, orderIds),
    env.DB.prepare("SELECT id, status FROM orders WHERE id IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(orderIds))
      .all<{ id: string; status: string }>(),
  ]);
  const status = new Map(statuses.results.map((r) => [r.id, r.status]));
  return notices.map((n) => ({
    order_id: n.order_id,
    gateway: n.gateway,
    currency: n.currency,
    notice_amount: n.amount,
    ledger_amount: (sales.get(n.order_id)?.legs ?? [])
      .filter((l) => l.kind === "gateway_clearing" && l.amount > 0)
      .reduce((s, l) => s + l.amount, 0),
    projected_status: status.get(n.order_id) ?? null,
    caught_up: n.channel_id ? (channelsCaughtUp.get(n.channel_id) ?? true) : true,
  }));
}

/**
 * Runs every check for `date` (YYYY-MM-DD, UTC). The nightly run is stored and announces a mismatch;
 * a run asked for through the API only answers (a GET changes nothing).
 */
export async function runReconciliation(
  env: Env,
  date: string,
  trigger: "api" | "cron",
  now = Date.now(),
): Promise<ReconciliationRun> {
  const applied = await appliedBySource(env.DB);
  const [pools, channels, totals] = await Promise.all([
    poolChecks(env, applied),
    channelChecks(env, applied),
    ledgerTotals(env.DB),
  ]);
  const caughtUp = new Map(channels.map((c) => [c.channel_id, c.caught_up]));
  const [payments, gatewayRefunds] = await Promise.all([
    paymentChecks(env, date, caughtUp),
    gatewayRefundChecks(env, date, caughtUp),
  ]);
  const outcome = reconcile({
    pools,
    channels,
    payments,
    gatewayRefunds,
    ledger: totals.map((t) => ({
      currency: t.currency,
      sum: t.total,
      unbalanced_transactions: t.unbalanced_transactions,
    })),
  });
  const run: ReconciliationRun = {
    id: newId("rec", now),
    object: "reconciliation",
    date,
    trigger,
    created_at: new Date(now).toISOString(),
    ...outcome,
  };
  if (trigger === "api") return run;
  await env.DB.prepare(
    "INSERT INTO reconciliation_runs (id, date, trigger, status, differences, lagging, checked, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  )
    .bind(
      run.id,
      date,
      trigger,
      run.status,
      JSON.stringify(run.differences),
      JSON.stringify(run.lagging),
      JSON.stringify(run.checked),
      now,
    )
    .run();
  if (run.status === "mismatch") await env.EVENTS.send(mismatchEvent(run, now), { contentType: "json" });
  return run;
}

/** The event subscribers of the root channel hear about; differences carry counts and amounts, never codes. */
function mismatchEvent(run: ReconciliationRun, now: number): DomainEvent {
  return {
    id: newId("evt", now),
    type: "reconciliation.mismatch",
    created_at: new Date(now).toISOString(),
    source: "reconciliation",
    seq: now,
    data: {
      channel_id: ROOT_CHANNEL_ID,
      run_id: run.id,
      date: run.date,
      differences: run.differences.slice(0, 50),
      difference_count: run.differences.length,
    },
  };
}

export interface StoredRun {
  id: string;
  date: string;
  trigger: string;
  status: string;
  differences: string;
  lagging: string;
  checked: string;
  created_at: number;
}

export function toRun(r: StoredRun): ReconciliationRun {
  return {
    id: r.id,
    object: "reconciliation",
    date: r.date,
    trigger: r.trigger as ReconciliationRun["trigger"],
    status: r.status as ReconciliationRun["status"],
    differences: JSON.parse(r.differences),
    lagging: JSON.parse(r.lagging),
    checked: JSON.parse(r.checked),
    created_at: new Date(r.created_at).toISOString(),
  };
}
