/**
 * Revenue recognised on redemption (pure): a sale credits the merchant's remainder to
 * merchant:deferred_revenue; each redeemed code moves one unit of it to merchant:revenue
 * (floor of share/units, the last unit takes the remainder) and a reversal posts the exact negative.
 */
import { deferredLeg, type Leg, nonZero, type Posting, revenueLeg } from "./ledger";

/** What the ledger knows about one order when a code of it is redeemed. */
export interface RecognitionState {
  /** The merchant's deferred share the sale posted. */
  share: number;
  /** The order's total quantity (codes sold). */
  units: number;
  /** Recognitions posted and not reversed. */
  active: number;
  /** Their sum: revenue recognised so far for the order. */
  recognised: number;
}

/**
 * Revenue one more redemption of the order recognises: floor(share / units), except the one that makes every
 * unit redeemed, which takes the rest (share − recognised), so a fully redeemed order recognises exactly its
 * share. Clamped to what is still deferred, so 0 ≤ recognised ≤ share even if events arrive out of order.
 */
export function recognitionAmount(s: RecognitionState): number {
  const left = Math.max(0, s.share - s.recognised);
  if (s.units <= 0 || s.share <= 0) return 0;
  if (s.active + 1 >= s.units) return left;
  return Math.min(Math.floor(s.share / s.units), left);
}

export interface RecognitionInput {
  redemption_id: string;
  event_id: string;
  order_id: string;
  channel_id: string;
  currency: string;
  amount: number;
  at: number;
}

/** A redeemed code's part of the deferred share becomes merchant revenue. Posted even when 0 (it counts the unit). */
export function recognitionPosting(r: RecognitionInput): Posting {
  return {
    source_key: `recognise:${r.redemption_id}`,
    type: "recognition",
    event_id: r.event_id,
    order_id: r.order_id,
    channel_id: r.channel_id,
    currency: r.currency,
    memo: `redemption ${r.redemption_id}`,
    created_at: r.at,
    legs: nonZero([deferredLeg(r.amount), revenueLeg(-r.amount)]),
  };
}

/** A reversed redemption: the exact negative of what its recognition posted. */
export function recognitionReversal(
  redemptionId: string,
  eventId: string,
  recognition: { order_id: string; channel_id: string | null; currency: string; legs: Leg[] },
  at: number,
): Posting {
  return {
    source_key: `unrecognise:${redemptionId}`,
    type: "recognition_reversal",
    event_id: eventId,
    order_id: recognition.order_id,
    channel_id: recognition.channel_id,
    currency: recognition.currency,
    memo: `redemption ${redemptionId} reversed`,
    created_at: at,
    legs: recognition.legs.map((l) => ({ ...l, amount: -l.amount })),
  };
}
