/**
 * The ledger's part of the events consumer: turns a batch of events into D1 statements that go into
 * the same D1 batch as the projections (so an event's ledger rows commit with its processed_events row),
 * and, after the commit, announces each posted split as `settlement.posted`.
 *
 * Exactly once: a transaction is `INSERT OR IGNORE`d by its unique source key and gets a fresh random id;
 * its entries are inserted only if a transaction with that id exists, i.e. only by the delivery whose
 * insert won. A redelivery (even one that bypassed processed_events) therefore posts nothing.
 * A refund that arrives before its sale is parked in ledger_pending and posted with (or after) the sale.
 * Redemptions recognise revenue (queues/ledger-recognition.ts) and are parked the same way.
 *
 * Here: the plan (pure decisions over what was loaded). The D1 reads are in db/ledger-inputs.ts, the statements
 * in db/ledger-posting.ts, the event readers in ./ledger-events.ts, the `settlement.posted` announcements in
 * ./ledger-settlements.ts.
 */

import { rollupAdd } from "../db/analytics";
import { loadPostedLegs } from "../db/ledger";
import { hasPostableParked, loadLedgerBatch, loadRecognitions } from "../db/ledger-inputs";
import {
  type Guard,
  guardedParkStatements,
  parkStatement,
  postingStatements,
  unparkStatement,
} from "../db/ledger-posting";
import { businessOffsetMs } from "../domain/analytics-range";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import { type Posting, passthroughEligible, refundPosting, salePosting, topUpPosting } from "../domain/ledger";
import { postingRollupDeltas } from "../domain/rollups";
import type { DomainEvent } from "../objects/outbox";
import { type Data, eventTime, isNum, isStr, paid, refunded } from "./ledger-events";
import { planRecognition, REDEMPTION_GRACE_MS, redemptionOf, type SaleView } from "./ledger-recognition";

export { publishSettlements } from "./ledger-settlements";

/**
 * How long a late gateway payment's refund waits for its order.paid before it posts as a pass-through. Checkout
 * emits order.paid before such a refund, so the sale normally arrives first or in the same batch; it comes
 * later only when its batch was retried (backoff ≤ 5 min per attempt).
 */
export const PASSTHROUGH_GRACE_MS = 3600_000;

/**
 * Everything a batch needs in two D1 round trips: the ordering channels' paths, the rules on them and the
 * parked refunds that can post now (their sale is in this batch or already in the ledger); then the legs
 * of the sales already posted for every order involved.
 */
async function load(
  db: D1Database,
  channelIds: string[],
  saleOrderIds: string[],
  orderIds: string[],
  recognitionKeys: string[],
  now: number,
) {
  const { paths, rules, parked } = await loadLedgerBatch(db, channelIds, saleOrderIds, recognitionKeys, now);
  const allOrders = [...orderIds, ...parked.map((p) => p.order_id)];
  const redemptions = parked.map((p) => redemptionOf(p.event)?.redemption_id).filter((x) => x !== undefined);
  const [posted, recognition] = await Promise.all([
    loadPostedLegs(db, allOrders),
    loadRecognitions(db, recognitionKeys.length || redemptions.length ? allOrders : [], [
      ...recognitionKeys.map((k) => k.slice("recognise:".length)),
      ...redemptions,
    ]),
  ]);
  return { paths, rules, parked, posted, recognition };
}

export interface LedgerPlan {
  postings: Posting[];
  /** Guarded postings (recognitions, reversals): if the guard fails, parked waiting for `waits_for`. */
  guards: Map<string, { guard: Guard; event: DomainEvent; waits_for: string; parked: boolean }>;
  /** Events that cannot post yet (their sale or recognition is not in the ledger): parked in ledger_pending. */
  park: {
    event: DomainEvent;
    order_id: string;
    passthrough_after: number | null;
    waits_for?: string;
    drop_after?: number;
    reason?: string;
  }[];
  /** Parked events posted (or dropped) by this batch: removed from ledger_pending. */
  unpark: string[];
}

/**
 * The postings of a batch of events, in event order, then any parked refunds that can post now. Never throws
 * for an event it cannot post: a refund that arrives before its sale is parked (the projection still commits)
 * and posted by the batch that posts the sale, or by any later batch once the sale is in the ledger.
 */
export async function ledgerPlan(db: D1Database, events: DomainEvent[], now = Date.now()): Promise<LedgerPlan> {
  const plan: LedgerPlan = { postings: [], guards: new Map(), park: [], unpark: [] };
  const sales = events.map(paid).filter((x) => x !== null);
  const refunds = events.map(refunded).filter((x) => x !== null);
  const saleOrders = sales.map((x) => x.order.id as string);
  const redemptions = events.map(redemptionOf).filter((x) => x !== null);
  const moves =
    sales.length > 0 ||
    refunds.length > 0 ||
    redemptions.length > 0 ||
    events.some((e) => e.type === "balance.topped_up");
  // A batch that moves no money only looks for parked refunds that can post now (usually none: one cheap query).
  if (!moves && !(await hasPostableParked(db, now))) return plan;
  const { paths, rules, parked, posted, recognition } = await load(
    db,
    sales.map((s) => s.order.channel_id),
    saleOrders,
    [...saleOrders, ...refunds.map((x) => x.order.id as string), ...redemptions.map((r) => r.order_id)],
    redemptions.map((r) => `recognise:${r.redemption_id}`),
    now,
  );
  const saleLegs = new Map<string, SaleView>(posted);
  // Orders of the root channel seen in this batch take no money: their redemptions never get a sale.
  for (const e of events)
    if (e.type.startsWith("order.") && (e.data as Data)?.order?.channel_id === ROOT_CHANNEL_ID)
      recognition.rootOrders.add((e.data as Data).order.id);
  const drops = new Set(parked.filter((p) => p.drop).map((p) => p.event.id));
  const inBatch = new Set(events.map((e) => e.id));
  const parkedIds = new Set(parked.map((p) => p.event.id));
  const passThrough = new Set(parked.filter((p) => p.passthrough).map((p) => p.event.id));
  for (const e of [...events, ...parked.filter((p) => !inBatch.has(p.event.id)).map((p) => p.event)]) {
    const d = e.data as Data;
    if (e.type === "balance.topped_up") {
      if (!isStr(d.channel_id) || !isStr(d.movement_id) || !isNum(d.amount) || !isStr(d.currency)) continue;
      plan.postings.push(
        topUpPosting({
          event_id: e.id,
          channel_id: d.channel_id,
          movement_id: d.movement_id,
          amount: d.amount,
          currency: d.currency,
          at: eventTime(e),
        }),
      );
    } else if (paid(e)) {
      const { order, payment } = paid(e)!;
      if (saleLegs.has(order.id)) continue; // already posted (redelivery or a second order.paid): nothing to do
      const path = paths.get(order.channel_id);
      // Channels are never deleted and exist before their orders; an unknown one is bad data: no split, logged.
      if (!path)
        console.error(
          JSON.stringify({
            level: "error",
            at: "ledger",
            order_id: order.id,
            error: "channel not found: sale posted without a split",
          }),
        );
      const { posting } = salePosting({
        event_id: e.id,
        order_id: order.id,
        channel_id: order.channel_id,
        currency: order.currency,
        lines: (order.items as Data[]).map((i) => ({
          product_id: String(i.product_id),
          quantity: Number(i.quantity) || 0,
          amount: Number(i.amount ?? i.quantity * i.unit_price) || 0,
        })),
        payment:
          payment.method === "balance"
            ? { method: "balance" }
            : { method: "gateway", gateway: String(payment.gateway ?? "unknown") },
        amount: isNum(payment.amount) ? payment.amount : order.total_amount,
        path: (path ?? []).map((id) => ({ channel_id: id, rule: rules.get(id) ?? null })),
        at: eventTime(e),
      });
      saleLegs.set(order.id, {
        channel_id: posting.channel_id!,
        currency: posting.currency,
        units: posting.units ?? null,
        legs: posting.legs,
      });
      plan.postings.push(posting);
    } else if (refunded(e)) {
      const { order, refund } = refunded(e)!;
      const result = refundPosting({
        event_id: e.id,
        order_id: order.id,
        channel_id: order.channel_id,
        at: eventTime(e),
        sale: saleLegs.get(order.id)?.legs ?? null,
        passthrough: passThrough.has(e.id),
        refund: {
          id: refund.id,
          amount: refund.amount,
          currency: refund.currency,
          to: refund.to === "balance" ? "balance" : "gateway",
          gateway: refund.gateway ?? null,
          was_fulfilled: refund.was_fulfilled !== false,
        },
      });
      if (result.ok) {
        plan.postings.push(result.posting);
        if (parkedIds.has(e.id)) plan.unpark.push(e.id);
      } else if (!parkedIds.has(e.id)) {
        const eligible = passthroughEligible({
          to: refund.to === "balance" ? "balance" : "gateway",
          was_fulfilled: refund.was_fulfilled !== false,
        });
        plan.park.push({
          event: e,
          order_id: order.id,
          passthrough_after: eligible ? now + PASSTHROUGH_GRACE_MS : null,
        });
      }
    } else if (redemptionOf(e)) {
      const action = planRecognition(e, saleLegs, recognition, eventTime(e), drops.has(e.id));
      const order_id = redemptionOf(e)!.order_id;
      if (action.kind === "post") {
        plan.postings.push(action.posting);
        plan.guards.set(action.posting.source_key, {
          guard: action.guard,
          event: e,
          waits_for: action.waits_for,
          parked: parkedIds.has(e.id),
        });
      } else if (action.kind === "park") {
        if (!parkedIds.has(e.id))
          plan.park.push({
            event: e,
            order_id,
            passthrough_after: null,
            waits_for: action.waits_for,
            drop_after: now + REDEMPTION_GRACE_MS,
            reason: action.reason,
          });
      } else if (parkedIds.has(e.id)) {
        if (action.kind === "drop")
          console.warn(
            JSON.stringify({
              level: "warn",
              at: "ledger",
              event_id: e.id,
              order_id,
              warning: `${e.type} dropped: its order has no sale (root order or grace passed)`,
            }),
          );
        plan.unpark.push(e.id);
      }
    }
  }
  return plan;
}

/** A guarded posting: if its guard fails, the event is parked (again) for a later batch; if it posts, unparked. */
function guardedStatements(
  db: D1Database,
  key: string,
  g: { event: DomainEvent; waits_for: string; parked: boolean },
  now: number,
): D1PreparedStatement[] {
  const { order_id } = redemptionOf(g.event)!;
  return guardedParkStatements(
    db,
    key,
    {
      eventId: g.event.id,
      orderId: order_id,
      body: JSON.stringify(g.event),
      waitsFor: g.waits_for,
      dropAfter: now + REDEMPTION_GRACE_MS,
      parked: g.parked,
    },
    now,
  );
}

/** The D1 statements of a batch's ledger plan, to run in the same D1 batch as the projections. */
export async function ledgerStatements(env: Env, events: DomainEvent[]): Promise<D1PreparedStatement[]> {
  const now = Date.now();
  const plan = await ledgerPlan(env.DB, events, now);
  const db = env.DB;
  const offset = businessOffsetMs(env.ANALYTICS_TZ_OFFSET_MINUTES);
  return [
    ...plan.postings.flatMap((p) => {
      const g = plan.guards.get(p.source_key);
      const txnId = newId("txn", p.created_at);
      // Commission and the merchant's share count in the cockpit only if this delivery's transaction was inserted.
      const rollups = postingRollupDeltas(p).flatMap((d) => rollupAdd(db, { txn: txnId }, d, offset));
      return g
        ? [...postingStatements(db, p, now, g.guard, txnId), ...guardedStatements(db, p.source_key, g, now), ...rollups]
        : [...postingStatements(db, p, now, undefined, txnId), ...rollups];
    }),
    ...plan.park.map(({ event, order_id, passthrough_after, waits_for, drop_after, reason }) =>
      parkStatement(
        db,
        {
          eventId: event.id,
          orderId: order_id,
          body: JSON.stringify(event),
          reason: reason ?? "sale_not_posted",
          passthroughAfter: passthrough_after,
          waitsFor: waits_for ?? null,
          dropAfter: drop_after ?? null,
        },
        now,
      ),
    ),
    ...(plan.unpark.length ? [unparkStatement(db, plan.unpark)] : []),
  ];
}
