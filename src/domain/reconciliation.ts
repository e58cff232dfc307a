/**
 * Reconciliation: compares what the Durable Objects hold (the truth), what the D1 projections
 * and the ledger say, and what the payment gateways told us. Pure: the gathering is in
 * src/lib/reconciliation.ts. A source whose events are still on their way (its projection has
 * applied fewer events than it wrote) is reported as lagging, not as a mismatch, because the
 * difference will close by itself once the queue drains.
 */

export interface CodeCounts {
  issued: number;
  redeemed: number;
  voided: number;
}

export interface PoolCheck {
  product_id: string;
  shard: number;
  truth: CodeCounts;
  projected: CodeCounts;
  caught_up: boolean;
}

export interface ChannelMoneyCheck {
  channel_id: string;
  /** The ChannelAccount's prepaid balance. */
  truth_balance: number;
  /** What the ledger holds for that channel's balance account (the channel's funds, as a positive number). */
  ledger_balance: number;
  caught_up: boolean;
}

/** One order paid through a gateway on the day checked, seen from three sides. */
export interface PaymentCheck {
  order_id: string;
  gateway: string;
  currency: string;
  /** Sum of the accepted, verified gateway notices for the order. */
  notice_amount: number;
  /** What the ledger booked into gateway clearing for the order's sale (0 if not posted). */
  ledger_amount: number;
  /** The order's status in the D1 projection (null: not projected). */
  projected_status: string | null;
  caught_up: boolean;
}

/** A refund the gateway reported (made in its console, or a chargeback) for an order. */
export interface GatewayRefundCheck {
  order_id: string;
  gateway: string;
  amount: number;
  projected_status: string | null;
  caught_up: boolean;
}

export interface LedgerCheck {
  currency: string;
  /** Sum of every entry: zero in a double-entry ledger. */
  sum: number;
  unbalanced_transactions: number;
}

export type DifferenceKind =
  | "code_counts"
  | "channel_balance"
  | "payment_vs_ledger"
  | "payment_vs_order"
  | "gateway_refund_unapplied"
  | "ledger_unbalanced";

export interface Difference {
  kind: DifferenceKind;
  subject: string;
  expected: number | Record<string, number>;
  actual: number | Record<string, number>;
  message: string;
}

export interface ReconciliationInput {
  pools: PoolCheck[];
  channels: ChannelMoneyCheck[];
  payments: PaymentCheck[];
  /** Optional: refunds the gateways reported on the day checked. */
  gatewayRefunds?: GatewayRefundCheck[];
  ledger: LedgerCheck[];
}

export interface ReconciliationOutcome {
  status: "ok" | "mismatch" | "lagging";
  differences: Difference[];
  lagging: string[];
  checked: { pools: number; channels: number; payments: number; currencies: number };
}

const sameCounts = (a: CodeCounts, b: CodeCounts) =>
  a.issued === b.issued && a.redeemed === b.redeemed && a.voided === b.voided;

export function reconcile(input: ReconciliationInput): ReconciliationOutcome {
  const differences: Difference[] = [];
  const lagging: string[] = [];
  for (const pool of input.pools) {
    if (sameCounts(pool.truth, pool.projected)) continue;
    const subject = `sku:${pool.product_id}:${pool.shard}`;
    if (!pool.caught_up) {
      lagging.push(subject);
      continue;
    }
    differences.push({
      kind: "code_counts",
      subject,
      expected: { ...pool.truth },
      actual: { ...pool.projected },
      message: "the pool's issued/redeemed/voided counts differ from the code index projection",
    });
  }
  for (const ch of input.channels) {
    if (ch.truth_balance === ch.ledger_balance) continue;
    const subject = `channel:${ch.channel_id}`;
    if (!ch.caught_up) {
      lagging.push(subject);
      continue;
    }
    differences.push({
      kind: "channel_balance",
      subject,
      expected: ch.truth_balance,
      actual: ch.ledger_balance,
      message: "the channel's prepaid balance differs from its ledger balance account",
    });
  }
  for (const p of input.payments) {
    const paidOutcome = p.projected_status === "fulfilled" || p.projected_status === "refunded";
    if (p.notice_amount === p.ledger_amount && paidOutcome) continue;
    const subject = `order:${p.order_id}`;
    if (!p.caught_up) {
      lagging.push(subject);
      continue;
    }
    if (p.notice_amount !== p.ledger_amount) {
      differences.push({
        kind: "payment_vs_ledger",
        subject,
        expected: p.notice_amount,
        actual: p.ledger_amount,
        message: `the ${p.gateway} payment of ${p.currency} ${p.notice_amount} differs from what the ledger booked into gateway clearing`,
      });
    }
    if (!paidOutcome) {
      differences.push({
        kind: "payment_vs_order",
        subject,
        expected: p.notice_amount,
        actual: 0,
        message: `paid through ${p.gateway} but the order is ${p.projected_status ?? "not projected"}: neither delivered nor refunded`,
      });
    }
  }
  for (const r of input.gatewayRefunds ?? []) {
    // Only a delivered order is a problem: a refund reported before the payment stops the payment from delivering.
    if (r.projected_status !== "fulfilled") continue;
    const subject = `order:${r.order_id}`;
    if (!r.caught_up) {
      lagging.push(subject);
      continue;
    }
    differences.push({
      kind: "gateway_refund_unapplied",
      subject,
      expected: r.amount,
      actual: 0,
      message: `${r.gateway} reported a refund but the order is still fulfilled: its codes are valid and the sale booked (refund it with POST /v1/orders/{id}/refund)`,
    });
  }
  for (const l of input.ledger) {
    if (l.sum === 0 && l.unbalanced_transactions === 0) continue;
    differences.push({
      kind: "ledger_unbalanced",
      subject: `ledger:${l.currency}`,
      expected: 0,
      actual: l.sum,
      message: `the ledger does not sum to zero (${l.unbalanced_transactions} unbalanced transaction(s))`,
    });
  }
  const status = differences.length > 0 ? "mismatch" : lagging.length > 0 ? "lagging" : "ok";
  return {
    status,
    differences,
    lagging,
    checked: {
      pools: input.pools.length,
      channels: input.channels.length,
      payments: input.payments.length,
      currencies: new Set([...input.payments, ...input.ledger].map((x) => x.currency)).size,
    },
  };
}

/** The UTC day [start, end) in epoch ms for "YYYY-MM-DD". */
export function dayBounds(date: string): { start: number; end: number } {
  const start = Date.parse(`${date}T00:00:00.000Z`);
  return { start, end: start + 86_400_000 };
}

/** The UTC date before `now` as "YYYY-MM-DD": what the nightly run checks. */
export function previousDay(now: number): string {
  return new Date(now - 86_400_000).toISOString().slice(0, 10);
}
