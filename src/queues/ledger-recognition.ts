/**
 * Revenue recognition on redemption, the ledger consumer's part for `code.redeemed` and
 * `code.redemption_reversed` (docs/ledger.md, "Revenue recognition").
 *
 * A redemption recognises one unit of its order's deferred merchant share (`recognitionAmount`), computed in
 * memory from the ledger's state of the order, in event order within a batch. Two consumers may work on the
 * same order at once, so each recognition is inserted only if the order's state is still what it was computed
 * from (`RECOGNITION_STATE` in db/ledger-posting.ts, checked inside the D1 transaction); if not, the redemption
 * is parked and computed again by a later batch. A reversal posts the exact negative of its recognition, only if
 * that recognition is in the ledger; otherwise it waits for it. A redemption whose order has no sale yet waits for
 * the sale; one of a root order (which never gets a sale) posts nothing, and anything parked longer than the grace
 * is dropped. The D1 side (loading the state, the guard's SQL) is in db/ledger-inputs.ts and db/ledger-posting.ts.
 */
import type { RecognitionLoad } from "../db/ledger-inputs";
import type { Guard } from "../db/ledger-posting";
import type { Leg, Posting } from "../domain/ledger";
import { recognitionAmount, recognitionPosting, recognitionReversal } from "../domain/revenue-recognition";
import type { DomainEvent } from "../objects/outbox";

// Event payloads are JSON read field by field through the isStr/isNum guards below.
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON, checked at each use
type Data = Record<string, any>;
const isStr = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/**
 * How long a redemption waits for its order's sale (and a reversal for its recognition) before it is dropped.
 * A code is issued only after its order committed its money, so the sale is late only by queue retries
 * (≤ 5 attempts, backoff ≤ 5 min); an order that never gets a sale took no money (a root order).
 */
export const REDEMPTION_GRACE_MS = 24 * 3600_000;

export function redemptionOf(e: DomainEvent): { redemption_id: string; order_id: string } | null {
  if (e.type !== "code.redeemed" && e.type !== "code.redemption_reversed") return null;
  const d = e.data as Data;
  return isStr(d?.redemption_id) && isStr(d?.order_id)
    ? { redemption_id: d.redemption_id, order_id: d.order_id }
    : null;
}

export interface SaleView {
  channel_id: string;
  currency: string;
  units: number | null;
  legs: Leg[];
}

export type RecognitionAction =
  /** Post (if the guard holds; otherwise park, waiting for `waits_for`). */
  | { kind: "post"; posting: Posting; guard: Guard; waits_for: string }
  /** Cannot post yet: park (or stay parked). */
  | { kind: "park"; waits_for: string; reason: string }
  /** Nothing to post, ever (already posted, a root order, a sale posted before recognition existed): unpark. */
  | { kind: "done" }
  /** Waited past the grace (or its order turned out to take no money): dropped unposted, logged. */
  | { kind: "drop" };

/**
 * What one redemption or reversal does, given the sales (posted and of this batch) and the loaded state, which
 * it updates in memory so the next event of the same order in the batch is computed after it.
 */
export function planRecognition(
  e: DomainEvent,
  sales: Map<string, SaleView>,
  load: RecognitionLoad,
  at: number,
  drop: boolean,
): RecognitionAction {
  const r = redemptionOf(e)!;
  const sale = sales.get(r.order_id);
  const recogniseKey = `recognise:${r.redemption_id}`;
  const nothing = () =>
    load.rootOrders.has(r.order_id) ? ({ kind: "done" } as const) : drop ? ({ kind: "drop" } as const) : null;
  if (sale && sale.units === null) return { kind: "done" }; // revenue was recognised at sale (posted before this change)
  const state = load.state.get(r.order_id) ?? { active: 0, recognised: 0 };
  if (e.type === "code.redeemed") {
    if (load.posted.has(recogniseKey)) return { kind: "done" };
    if (!sale) return nothing() ?? { kind: "park", waits_for: `sale:${r.order_id}`, reason: "redemption_before_sale" };
    const share = -sale.legs.filter((l) => l.kind === "deferred_revenue").reduce((s, l) => s + l.amount, 0);
    const amount = recognitionAmount({ share, units: sale.units!, ...state });
    const posting = recognitionPosting({
      redemption_id: r.redemption_id,
      event_id: e.id,
      order_id: r.order_id,
      channel_id: sale.channel_id,
      currency: sale.currency,
      amount,
      at,
    });
    load.state.set(r.order_id, { active: state.active + 1, recognised: state.recognised + amount });
    load.posted.set(recogniseKey, {
      order_id: r.order_id,
      channel_id: sale.channel_id,
      currency: sale.currency,
      legs: posting.legs,
    });
    return {
      kind: "post",
      posting,
      guard: { order_id: r.order_id, state: `${state.active}:${state.recognised}` },
      waits_for: `sale:${r.order_id}`,
    };
  }
  if (load.posted.has(`un${recogniseKey}`)) return { kind: "done" };
  const recognition = load.posted.get(recogniseKey);
  if (!recognition)
    return nothing() ?? { kind: "park", waits_for: recogniseKey, reason: "reversal_before_recognition" };
  const posting = recognitionReversal(r.redemption_id, e.id, recognition, at);
  const undone = recognition.legs.filter((l) => l.kind === "revenue").reduce((s, l) => s + l.amount, 0); // ≤ 0: revenue is a credit
  load.state.set(r.order_id, { active: state.active - 1, recognised: state.recognised + undone });
  load.posted.set(`un${recogniseKey}`, { ...recognition, legs: posting.legs });
  return { kind: "post", posting, guard: { requires: recogniseKey }, waits_for: recogniseKey };
}
