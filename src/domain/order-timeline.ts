/**
 * The consumer's order timeline on the hosted order page: paid → issued → revealed → redeemed, or an end
 * (expired, refunded, cancelled, failed). Pure: the route reads the order, its checkout, the code index
 * and the first reveal, and this decides which steps are done.
 */

export type TimelineStep =
  | "paid"
  | "issued"
  | "revealed"
  | "redeemed"
  | "expired"
  | "refunded"
  | "cancelled"
  | "failed";

export interface TimelineEntry {
  step: TimelineStep;
  /** done (with when, if known), or still to come */
  state: "done" | "pending";
  at: number | null;
  /** for `redeemed`: how many of the order's codes are redeemed so far */
  count?: number;
  of?: number;
}

export interface TimelineCode {
  status: string;
  expires_at: number | null;
  issued_at: number | null;
  redeemed_at: number | null;
}

export interface TimelineInput {
  status: string;
  updated_at: number;
  paid_at: number | null;
  paid: boolean;
  revealed_at: number | null;
  /** a refunded order whose codes had been issued (and are now voided) */
  refunded_after_issue: boolean;
  codes: TimelineCode[];
  quantity: number;
  now: number;
}

const earliest = (values: (number | null)[]) => {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.min(...known) : null;
};
const latest = (values: (number | null)[]) => {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
};

export function orderTimeline(o: TimelineInput): TimelineEntry[] {
  const entry = (step: TimelineStep, done: boolean, at: number | null = null): TimelineEntry => ({
    step,
    state: done ? "done" : "pending",
    at: done ? at : null,
  });
  if (o.status === "cancelled" && !o.paid) return [entry("paid", false), entry("cancelled", true, o.updated_at)];
  if (o.status === "failed") return [entry("paid", o.paid, o.paid_at), entry("failed", true, o.updated_at)];
  const issued = o.status === "fulfilled" || (o.status === "refunded" && o.refunded_after_issue);
  const redeemed = o.codes.filter((c) => c.status === "redeemed");
  const unredeemedExpired = o.codes.filter(
    (c) => c.status !== "redeemed" && c.expires_at !== null && c.expires_at <= o.now,
  );
  const steps = [
    entry("paid", o.paid, o.paid_at),
    entry("issued", issued, issued ? (earliest(o.codes.map((c) => c.issued_at)) ?? o.updated_at) : null),
    entry("revealed", o.revealed_at !== null, o.revealed_at),
  ];
  if (o.status === "refunded") return [...steps, entry("refunded", true, o.updated_at)];
  const allRedeemed = issued && redeemed.length === o.quantity;
  const redeemedStep = entry("redeemed", allRedeemed, latest(redeemed.map((c) => c.redeemed_at)));
  steps.push({ ...redeemedStep, count: redeemed.length, of: o.quantity });
  if (issued && unredeemedExpired.length > 0)
    steps.push(entry("expired", true, latest(unredeemedExpired.map((c) => c.expires_at))));
  return steps;
}
