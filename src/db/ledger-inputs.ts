/**
 * What the ledger poster reads from D1 for a batch of events (docs/ledger.md): the ordering channels' paths and
 * settlement rules, the parked events that can post now, and the orders' revenue-recognition state.
 */
import { ROOT_CHANNEL_ID } from "../domain/ids";
import type { Leg } from "../domain/ledger";
import type { SettlementRule } from "../domain/settlement";
import type { DomainEvent } from "../objects/outbox";

// Rows read field by field.
// biome-ignore lint/suspicious/noExplicitAny: untyped rows, checked at each use
type Data = Record<string, any>;

/**
 * A parked event can post once what it waits for is in the ledger (its order's sale; a reversal: its recognition),
 * a refund (pass-through) once its grace ran out; a redemption or reversal is dropped once its grace ran out or
 * its order turns out to be a root order (no money, no sale).
 */
const dropNow = (now: string) =>
  `(p.drop_after <= ${now} OR (p.drop_after IS NOT NULL AND EXISTS (SELECT 1 FROM orders o WHERE o.id = p.order_id AND o.channel_id = '${ROOT_CHANNEL_ID}')))`;
const postable = (now: string) =>
  `(EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.source_key = COALESCE(p.waits_for, 'sale:' || p.order_id)) OR p.passthrough_after <= ${now} OR ${dropNow(now)})`;

/** Whether any parked event can post (or be dropped) now: the one cheap query of a batch that moves no money. */
export async function hasPostableParked(db: D1Database, now: number): Promise<boolean> {
  return (
    (await db
      .prepare(`SELECT 1 FROM ledger_pending p WHERE ${postable("?1")} LIMIT 1`)
      .bind(now)
      .first()) !== null
  );
}

export interface ParkedEvent {
  event: DomainEvent;
  order_id: string;
  /** Its pass-through grace ran out: a refund posts without its sale. */
  passthrough: boolean;
  /** Its grace ran out (or its order is a root order): dropped unposted. */
  drop: boolean;
}

/**
 * One D1 round trip (one batch): the ordering channels' paths below the root, the rules on them, and the parked
 * events that can post now (their sale is in this batch or already in the ledger, or they wait for one of
 * `recognitionKeys`), oldest first, at most 100.
 */
export async function loadLedgerBatch(
  db: D1Database,
  channelIds: string[],
  saleOrderIds: string[],
  recognitionKeys: string[],
  now: number,
): Promise<{ paths: Map<string, string[]>; rules: Map<string, SettlementRule>; parked: ParkedEvent[] }> {
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
  };
}

export interface PostedRecognition {
  order_id: string;
  channel_id: string | null;
  currency: string;
  legs: Leg[];
}
export interface RecognitionLoad {
  /** Per order: recognitions posted and not reversed, and revenue recognised. */
  state: Map<string, { active: number; recognised: number }>;
  /** Recognitions and reversals already posted, by source key. */
  posted: Map<string, PostedRecognition>;
  /** Orders of the root channel: they take no money, so never get a sale. */
  rootOrders: Set<string>;
}

/** One D1 round trip: the orders' recognition state, the redemptions' postings, which orders are root orders. */
export async function loadRecognitions(
  db: D1Database,
  orderIds: string[],
  redemptionIds: string[],
): Promise<RecognitionLoad> {
  const out: RecognitionLoad = { state: new Map(), posted: new Map(), rootOrders: new Set() };
  if (orderIds.length === 0) return out;
  const orders = JSON.stringify([...new Set(orderIds)]);
  const [state, posted, roots] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `SELECT t.order_id, SUM(CASE t.type WHEN 'recognition' THEN 1 ELSE -1 END) AS active, -COALESCE(SUM(e.amount), 0) AS recognised
       FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn_id = t.id AND e.account_id = 'merchant:revenue'
       WHERE t.order_id IN (SELECT value FROM json_each(?1)) AND t.type IN ('recognition', 'recognition_reversal') GROUP BY t.order_id`,
      )
      .bind(orders),
    db
      .prepare(
        `SELECT t.source_key, t.order_id, t.channel_id, t.currency, e.account_id, e.channel_id AS leg_channel, e.amount, a.owner, a.kind
       FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn_id = t.id LEFT JOIN ledger_accounts a ON a.id = e.account_id
       WHERE t.source_key IN (SELECT 'recognise:' || value FROM json_each(?1) UNION ALL SELECT 'unrecognise:' || value FROM json_each(?1))
       ORDER BY t.source_key, e.line`,
      )
      .bind(JSON.stringify([...new Set(redemptionIds)])),
    db
      .prepare("SELECT id FROM orders WHERE id IN (SELECT value FROM json_each(?1)) AND channel_id = ?2")
      .bind(orders, ROOT_CHANNEL_ID),
  ]);
  for (const r of state.results as { order_id: string; active: number; recognised: number }[])
    out.state.set(r.order_id, { active: r.active, recognised: r.recognised });
  for (const r of posted.results as Data[]) {
    let p = out.posted.get(r.source_key);
    if (!p) {
      p = { order_id: r.order_id, channel_id: r.channel_id, currency: r.currency, legs: [] };
      out.posted.set(r.source_key, p);
    }
    if (r.account_id !== null)
      p.legs.push({
        account: r.account_id,
        owner: r.owner ?? "platform",
        kind: r.kind ?? "revenue",
        channel_id: r.leg_channel,
        amount: r.amount ?? 0,
      });
  }
  for (const r of roots.results as { id: string }[]) out.rootOrders.add(r.id);
  return out;
}
