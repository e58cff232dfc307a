/**
 * Gathers the four sides of a reconciliation (Durable Objects, D1 projections, ledger, gateway
 * notices), compares them with the pure `reconcile`, stores the run, and on any difference emits
 * `reconciliation.mismatch`. Used by GET /v1/reconciliation and by the nightly cron.
 */

import { ledgerChannelBalances, ledgerTotals, loadPostedLegs } from "../db/ledger";
import {
  allChannelIds,
  appliedBySource,
  gatewayRefundNotices,
  insertReconciliationRun,
  inventoryProductShards,
  projectedCodeCounts,
  projectedOrderStatuses,
  receivedPayments,
} from "../db/reconciliation";
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

async function poolChecks(env: Env, applied: Map<string, number>): Promise<PoolCheck[]> {
  const products = await inventoryProductShards(env.DB);
  const rows = await projectedCodeCounts(env.DB);
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
  const ids = await allChannelIds(env.DB);
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
  return (await gatewayRefundNotices(env.DB, start, end)).map((r) => ({
    order_id: r.order_id,
    gateway: r.gateway,
    amount: r.amount,
    projected_status: r.status,
    caught_up: r.channel_id ? (channelsCaughtUp.get(r.channel_id) ?? true) : true,
  }));
}

async function paymentChecks(env: Env, date: string, channelsCaughtUp: Map<string, boolean>): Promise<PaymentCheck[]> {
  const { start, end } = dayBounds(date);
  const notices = await receivedPayments(env.DB, start, end, MONEY_RECEIVED);
  if (notices.length === 0) return [];
  const orderIds = notices.map((n) => n.order_id);
  const [sales, status] = await Promise.all([
    loadPostedLegs(env.DB, orderIds),
    projectedOrderStatuses(env.DB, orderIds),
  ]);
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
  await insertReconciliationRun(env.DB, {
    id: run.id,
    date,
    trigger,
    status: run.status,
    differences: JSON.stringify(run.differences),
    lagging: JSON.stringify(run.lagging),
    checked: JSON.stringify(run.checked),
    created_at: now,
  });
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
