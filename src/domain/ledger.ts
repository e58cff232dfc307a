/**
 * Pure posting builders for the double-entry ledger (docs/ledger.md). Sign convention: amount > 0 is a
 * debit, amount < 0 a credit; the legs of every posting sum to zero. Liabilities (a channel's prepaid
 * balance, its commission payable) and revenue carry credit (negative) balances.
 */
import { type PathRule, type Split, type SplitLine, splitOrder } from "./settlement";

export type AccountKind = "balance" | "commission" | "revenue" | "deferred_revenue" | "gateway_clearing" | "bank";
export type PostingType =
  | "topup"
  | "sale"
  | "refund"
  | "refund_passthrough"
  | "payout"
  | "recognition"
  | "recognition_reversal";

export interface Leg {
  account: string;
  owner: string;
  kind: AccountKind;
  /** The channel the leg belongs to (for statements), null for platform accounts. */
  channel_id: string | null;
  amount: number;
}

export interface Posting {
  source_key: string;
  type: PostingType;
  event_id: string | null;
  order_id: string | null;
  channel_id: string | null;
  currency: string;
  memo: string | null;
  created_at: number;
  legs: Leg[];
  /** Sales only: the order's total quantity (codes sold), which revenue recognition divides the deferred share by. */
  units?: number | null;
}

export const channelLeg = (channelId: string, kind: "balance" | "commission", amount: number): Leg => ({
  account: `${channelId}:${kind}`,
  owner: channelId,
  kind,
  channel_id: channelId,
  amount,
});
export const revenueLeg = (amount: number): Leg => ({
  account: "merchant:revenue",
  owner: "platform",
  kind: "revenue",
  channel_id: null,
  amount,
});
export const deferredLeg = (amount: number): Leg => ({
  account: "merchant:deferred_revenue",
  owner: "platform",
  kind: "deferred_revenue",
  channel_id: null,
  amount,
});
export const bankLeg = (amount: number): Leg => ({
  account: "platform:bank",
  owner: "platform",
  kind: "bank",
  channel_id: null,
  amount,
});
export const clearingLeg = (gateway: string, amount: number): Leg => ({
  account: `gateway:${gateway}:clearing`,
  owner: "platform",
  kind: "gateway_clearing",
  channel_id: null,
  amount,
});

/** Drops zero legs (they carry no money and only clutter statements). */
export const nonZero = (legs: Leg[]) => legs.filter((l) => l.amount !== 0);

export const legsSum = (legs: { amount: number }[]) => legs.reduce((s, l) => s + l.amount, 0);

export interface TopUpInput {
  event_id: string;
  channel_id: string;
  movement_id: string;
  amount: number;
  currency: string;
  at: number;
}

/** Cash received by the merchant; the channel's prepaid balance (a liability) grows. */
export function topUpPosting(t: TopUpInput): Posting {
  return {
    source_key: `topup:${t.channel_id}:${t.movement_id}`,
    type: "topup",
    event_id: t.event_id,
    order_id: null,
    channel_id: t.channel_id,
    currency: t.currency,
    memo: `top-up ${t.movement_id}`,
    created_at: t.at,
    legs: nonZero([bankLeg(t.amount), channelLeg(t.channel_id, "balance", -t.amount)]),
  };
}

export interface SaleInput {
  event_id: string;
  order_id: string;
  channel_id: string;
  currency: string;
  lines: SplitLine[];
  payment: { method: "balance" } | { method: "gateway"; gateway: string };
  amount: number;
  /** Channels below the root on the order channel's path, top-down, with their rules. */
  path: PathRule[];
  at: number;
}

/**
 * The money's source (the channel's balance — a negative balance is credit used, i.e. the channel owes
 * the merchant — or the gateway's clearing account) against the split: commission payable to each path
 * channel, the rest to the merchant's deferred revenue (a liability: codes sold, not yet used), which
 * becomes revenue code by code as they are redeemed (`recognitionAmount`).
 */
export function salePosting(s: SaleInput): { posting: Posting; split: Split } {
  const split = splitOrder(s.lines, s.path, s.amount);
  const source =
    s.payment.method === "balance"
      ? channelLeg(s.channel_id, "balance", split.total)
      : clearingLeg(s.payment.gateway, split.total);
  const legs = [
    source,
    ...split.shares.map((x) => channelLeg(x.channel_id, "commission", -x.amount)),
    deferredLeg(-split.merchant_amount),
  ];
  const units = s.lines.reduce((n, l) => n + Math.max(0, l.quantity), 0);
  return {
    posting: {
      source_key: `sale:${s.order_id}`,
      type: "sale",
      event_id: s.event_id,
      order_id: s.order_id,
      channel_id: s.channel_id,
      currency: s.currency,
      memo: s.payment.method === "balance" ? "sale (balance)" : `sale (${s.payment.gateway})`,
      created_at: s.at,
      legs: nonZero(legs),
      units,
    },
    split,
  };
}

export interface RefundInput {
  event_id: string;
  order_id: string;
  channel_id: string;
  refund: {
    id: string;
    amount: number;
    currency: string;
    to: "balance" | "gateway";
    gateway?: string | null;
    was_fulfilled: boolean;
  };
  /** The legs the sale of this order posted, or null when no sale was posted. */
  sale: Leg[] | null;
  /** Without a sale: post a pass-through (the caller waited long enough for the order.paid that never came). */
  passthrough?: boolean;
  at: number;
}

/** Only a gateway refund of an order never fulfilled (a late payment) may pass through without a sale. */
export const passthroughEligible = (refund: { to: string; was_fulfilled: boolean }) =>
  refund.to === "gateway" && !refund.was_fulfilled;

export type RefundResult = { ok: true; posting: Posting } | { ok: false; reason: "sale_not_posted" };

/**
 * Reverses the sale and its split. A full refund posts the exact negatives of the sale's split legs; a
 * partial one reverses each commission pro rata (floored) and the merchant's leg takes the remainder: the
 * deferred revenue the sale posted (or, for a sale posted before recognition on redemption, merchant revenue).
 * Refunds are only possible while no code of the order is redeemed, so nothing is recognised for it: what a
 * redemption recognised and its reversal undid nets to zero on their own (docs/ledger.md).
 * The money goes back to the channel's balance or out of the gateway's clearing account. A refund of a
 * payment that never became a sale (a late payment refunded, `was_fulfilled` false) passes through
 * the gateway clearing account: received and returned, no revenue, no commission. Without a sale the result
 * is `sale_not_posted` unless the caller says to pass through (it waits first: the order.paid may be late).
 */
export function refundPosting(r: RefundInput): RefundResult {
  const base = {
    source_key: `refund:${r.refund.id}`,
    event_id: r.event_id,
    order_id: r.order_id,
    channel_id: r.channel_id,
    currency: r.refund.currency,
    created_at: r.at,
  };
  const gateway = r.refund.gateway ?? "unknown";
  if (!r.sale) {
    if (!r.passthrough || !passthroughEligible(r.refund)) return { ok: false, reason: "sale_not_posted" };
    return {
      ok: true,
      posting: {
        ...base,
        type: "refund_passthrough",
        memo: `late payment refunded (${gateway})`,
        legs: nonZero([clearingLeg(gateway, r.refund.amount), clearingLeg(gateway, -r.refund.amount)]),
      },
    };
  }
  const total = legsSum(r.sale.filter((l) => l.amount > 0));
  const amount = Math.min(r.refund.amount, total);
  const reversal = r.sale
    .filter((l) => l.amount < 0 && l.kind === "commission")
    .map((l) => ({
      ...l,
      amount: amount === total ? -l.amount : Number((BigInt(-l.amount) * BigInt(amount)) / BigInt(Math.max(1, total))),
    }));
  const destination =
    r.refund.to === "balance" ? channelLeg(r.channel_id, "balance", -amount) : clearingLeg(gateway, -amount);
  const merchant = r.sale.some((l) => l.kind === "revenue") ? revenueLeg : deferredLeg;
  const legs = [destination, ...reversal, merchant(amount - legsSum(reversal))];
  return {
    ok: true,
    posting: {
      ...base,
      type: "refund",
      memo: `refund ${r.refund.id}${amount < r.refund.amount ? " (capped at the sale)" : ""}`,
      legs: nonZero(legs),
    },
  };
}

export interface PayoutInput {
  payout_id: string;
  channel_id: string;
  amount: number;
  currency: string;
  at: number;
}

/** Commission payable settled: the channel's commission account is debited, the bank credited. */
export function payoutPosting(p: PayoutInput): Posting {
  return {
    source_key: `payout:${p.payout_id}`,
    type: "payout",
    event_id: null,
    order_id: null,
    channel_id: p.channel_id,
    currency: p.currency,
    memo: `payout ${p.payout_id}`,
    created_at: p.at,
    legs: nonZero([channelLeg(p.channel_id, "commission", p.amount), bankLeg(-p.amount)]),
  };
}
