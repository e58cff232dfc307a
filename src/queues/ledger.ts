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
 */

import { loadPostedLegs } from "../db/ledger";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import { type Posting, passthroughEligible, refundPosting, salePosting, topUpPosting } from "../domain/ledger";
import type { SettlementRule } from "../domain/settlement";
import type { DomainEvent } from "../objects/outbox";
import {
  type Guard,
  loadRecognitions,
  planRecognition,
  RECOGNITION_STATE,
  REDEMPTION_GRACE_MS,
  redemptionOf,
  type SaleView,
} from "./ledger-recognition";

// Event payloads are JSON read field by field through the isStr/isNum guards below.
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON, checked at each use
type Data = Record<string, any>;
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const eventTime = (e: DomainEvent) => Date.parse(e.created_at) || Date.now();

/** Events that move money, with what they need; anything else (or malformed) yields nothing here. */
function paid(e: DomainEvent) {
  const d = e.data as Data;
  const o = d?.order,
    p = d?.payment;
  if (e.type !== "order.paid" || !isStr(o?.id) || !isStr(o?.channel_id) || !Array.isArray(o?.items) || !p) return null;
  if (p.method !== "balance" && p.method !== "gateway") return null; // method none: root orders move no money
  return { order: o, payment: p };
}

function refunded(e: DomainEvent) {
  const d = e.data as Data;
  const o = d?.order,
    r = d?.refund;
  if (
    e.type !== "order.refunded" ||
    !isStr(o?.id) ||
    !isStr(o?.channel_id) ||
    !r ||
    !isStr(r.id) ||
    !isNum(r.amount) ||
    !isStr(r.currency)
  )
    return null;
  return { order: o, refund: r };
}

/**
 * Postings → statements: accounts (created on first use), the transaction, its entries. With a guard the
 * transaction (and so its entries) is inserted only if the guard holds inside the D1 transaction.
 */
export function postingStatements(
  db: D1Database,
  p: Posting,
  postedAt = Date.now(),
  guard?: Guard,
): D1PreparedStatement[] {
  const txnId = newId("txn", p.created_at);
  const values = [
    txnId,
    p.source_key,
    p.type,
    p.event_id,
    p.order_id,
    p.channel_id,
    p.currency,
    p.memo,
    p.created_at,
    postedAt,
    p.units ?? null,
  ];
  const insert =
    "INSERT OR IGNORE INTO ledger_transactions (id, source_key, type, event_id, order_id, channel_id, currency, memo, created_at, posted_at, units) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11";
  const txn = !guard
    ? db.prepare(insert).bind(...values)
    : "requires" in guard
      ? db
          .prepare(`${insert} WHERE EXISTS (SELECT 1 FROM ledger_transactions WHERE source_key = ?12)`)
          .bind(...values, guard.requires)
      : db.prepare(`${insert} WHERE ${RECOGNITION_STATE("?12")} = ?13`).bind(...values, guard.order_id, guard.state);
  const accounts = [
    ...new Map(p.legs.map((l) => [l.account, { id: l.account, owner: l.owner, kind: l.kind }])).values(),
  ];
  const entries = p.legs.map((l) => ({ a: l.account, c: l.channel_id, m: l.amount }));
  return [
    db
      .prepare(
        "INSERT OR IGNORE INTO ledger_accounts (id, owner, kind, created_at) SELECT json_extract(value, '$.id'), json_extract(value, '$.owner'), json_extract(value, '$.kind'), ?2 FROM json_each(?1)",
      )
      .bind(JSON.stringify(accounts), postedAt),
    txn,
    db
      .prepare(
        `INSERT OR IGNORE INTO ledger_entries (txn_id, line, account_id, channel_id, amount, currency, created_at)
       SELECT ?1, CAST(key AS INTEGER), json_extract(value, '$.a'), json_extract(value, '$.c'), json_extract(value, '$.m'), ?3, ?4 FROM json_each(?2)
       WHERE EXISTS (SELECT 1 FROM ledger_transactions WHERE id = ?1)`,
      )
      .bind(txnId, JSON.stringify(entries), p.currency, p.created_at),
  ];
}

/**
 * How long a late gateway payment's refund waits for its order.paid before it posts as a pass-through. Checkout
 * emits order.paid before such a refund, so the sale normally arrives first or in the same batch; it comes
 * later only when its batch was retried (backoff ≤ 5 min per attempt).
 */
export const PASSTHROUGH_GRACE_MS = 3600_000;

/**
 * A parked event can post once what it waits for is in the ledger (its order's sale; a reversal: its recognition),
 * a refund (pass-through) once its grace ran out; a redemption or reversal is dropped once its grace ran out or
 * its order turns out to be a root order (no money, no sale).
 */
const dropNow = (now: string) =>
  `(p.drop_after <= ${now} OR (p.drop_after IS NOT NULL AND EXISTS (SELECT 1 FROM orders o WHERE o.id = p.order_id AND o.channel_id = '${ROOT_CHANNEL_ID}')))`;
const postable = (now: string) =>
  `(EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.source_key = COALESCE(p.waits_for, 'sale:' || p.order_id)) OR p.passthrough_after <= ${now} OR ${dropNow(now)})`;
async function hasPostableParked(db: D1Database, now: number): Promise<boolean> {
  return (
    (await db
      .prepare(`SELECT 1 FROM ledger_pending p WHERE ${postable("?1")} LIMIT 1`)
      .bind(now)
      .first()) !== null
  );
}

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
  const ids = JSON.stringify([...new Set(channelIds)]);
  const [paths, rules, pending] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT id, path FROM channels WHERE id IN (SELECT value FROM json_each(?1))").bind(ids),
    db
      .prepare(
        `SELECT r.channel_id, r.bps, r.fixed_per_unit, r.cap, r.overrides FROM settlement_rules r
       WHERE EXISTS (SELECT 1 FROM channels c WHERE c.id IN (SELECT value FROM json_each(?1)) AND instr(c.path, '/' || r.channel_id || '/') > 0)`,
      )
      .bind(ids),
    db
      .prepare(
        `SELECT p.body, p.order_id, p.passthrough_after <= ?2 AS passthrough, ${dropNow("?2")} AS drop_now FROM ledger_pending p
       WHERE p.order_id IN (SELECT value FROM json_each(?1)) OR p.waits_for IN (SELECT value FROM json_each(?3)) OR ${postable("?2")} ORDER BY p.created_at LIMIT 100`,
      )
      .bind(JSON.stringify(saleOrderIds), now, JSON.stringify(recognitionKeys)),
  ]);
  const parked = (
    pending.results as { body: string; order_id: string; passthrough: number | null; drop_now: number | null }[]
  ).map((r) => ({
    event: JSON.parse(r.body) as DomainEvent,
    order_id: r.order_id,
    passthrough: r.passthrough === 1,
    drop: r.drop_now === 1,
  }));
  const allOrders = [...orderIds, ...parked.map((p) => p.order_id)];
  const redemptions = parked.map((p) => redemptionOf(p.event)?.redemption_id).filter((x) => x !== undefined);
  const [posted, recognition] = await Promise.all([
    loadPostedLegs(db, allOrders),
    loadRecognitions(db, recognitionKeys.length || redemptions.length ? allOrders : [], [
      ...recognitionKeys.map((k) => k.slice("recognise:".length)),
      ...redemptions,
    ]),
  ]);
  return {
    paths: new Map(
      (paths.results as { id: string; path: string }[]).map((r) => [
        r.id,
        r.path.split("/").filter((x) => x && x !== ROOT_CHANNEL_ID),
      ]),
    ),
    rules: new Map(
      (rules.results as Data[]).map((r) => [
        r.channel_id as string,
        {
          bps: r.bps,
          fixed_per_unit: r.fixed_per_unit,
          cap: r.cap,
          overrides: JSON.parse(r.overrides),
        } as SettlementRule,
      ]),
    ),
    parked,
    posted,
    recognition,
  };
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

/** A guarded posting: if its guard failed, the event is parked (again) to be computed by a later batch; if it posted, unparked. */
function guardedStatements(
  db: D1Database,
  key: string,
  g: { event: DomainEvent; waits_for: string; parked: boolean },
  now: number,
): D1PreparedStatement[] {
  const { order_id } = redemptionOf(g.event)!;
  return [
    db
      .prepare(
        `INSERT OR IGNORE INTO ledger_pending (event_id, order_id, body, reason, waits_for, drop_after, created_at) SELECT ?1, ?2, ?3, 'recognition_retry', ?4, ?5, ?6
       WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions WHERE source_key = ?7)`,
      )
      .bind(g.event.id, order_id, JSON.stringify(g.event), g.waits_for, now + REDEMPTION_GRACE_MS, now, key),
    ...(g.parked
      ? [
          db
            .prepare(
              "DELETE FROM ledger_pending WHERE event_id = ?1 AND EXISTS (SELECT 1 FROM ledger_transactions WHERE source_key = ?2)",
            )
            .bind(g.event.id, key),
        ]
      : []),
  ];
}

export async function ledgerStatements(env: Env, events: DomainEvent[]): Promise<D1PreparedStatement[]> {
  const now = Date.now();
  const plan = await ledgerPlan(env.DB, events, now);
  const db = env.DB;
  return [
    ...plan.postings.flatMap((p) => {
      const g = plan.guards.get(p.source_key);
      return g
        ? [...postingStatements(db, p, now, g.guard), ...guardedStatements(db, p.source_key, g, now)]
        : postingStatements(db, p, now);
    }),
    ...plan.park.map(({ event, order_id, passthrough_after, waits_for, drop_after, reason }) =>
      db
        .prepare(
          "INSERT OR IGNORE INTO ledger_pending (event_id, order_id, body, reason, passthrough_after, waits_for, drop_after, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(
          event.id,
          order_id,
          JSON.stringify(event),
          reason ?? "sale_not_posted",
          passthrough_after,
          waits_for ?? null,
          drop_after ?? null,
          now,
        ),
    ),
    ...(plan.unpark.length
      ? [
          db
            .prepare("DELETE FROM ledger_pending WHERE event_id IN (SELECT value FROM json_each(?1))")
            .bind(JSON.stringify(plan.unpark)),
        ]
      : []),
  ];
}

/** A deterministic event id per order: a redelivery announces the same event, which consumers dedupe. */
async function settlementEventId(orderId: string, at: number): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`settlement.posted:${orderId}`)),
  );
  return newId("evt", at, digest.slice(0, 16));
}

/** After the batch committed: `settlement.posted` for every order.paid of the batch whose sale is in the ledger. */
export async function publishSettlements(env: Env, events: DomainEvent[]): Promise<number> {
  const orderIds = events
    .map(paid)
    .filter((x) => x !== null)
    .map((x) => x.order.id as string);
  if (orderIds.length === 0) return 0;
  const messages: { body: DomainEvent; contentType: "json" }[] = [];
  for (const [orderId, { legs, ...meta }] of await loadPostedLegs(env.DB, orderIds)) {
    const data = {
      order_id: orderId,
      channel_id: meta.channel_id,
      currency: meta.currency,
      total: legs.filter((l) => l.amount > 0).reduce((s, l) => s + l.amount, 0),
      shares: legs.filter((l) => l.kind === "commission").map((l) => ({ channel_id: l.owner, amount: -l.amount })),
      merchant_amount: -(legs.find((l) => l.kind === "deferred_revenue" || l.kind === "revenue")?.amount ?? 0),
    };
    const id = await settlementEventId(orderId, meta.created_at);
    messages.push({
      body: {
        id,
        type: "settlement.posted",
        created_at: new Date(meta.created_at).toISOString(),
        source: `ledger:${orderId}`,
        seq: 1,
        data,
      },
      contentType: "json",
    });
  }
  for (let i = 0; i < messages.length; i += 50) await env.EVENTS.sendBatch(messages.slice(i, i + 50));
  return messages.length;
}
