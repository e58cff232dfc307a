/**
 * Ledger, settlement rules and payouts (migrations/0008_ledger.sql; docs/ledger.md).
 * Sign convention: amount > 0 debit, < 0 credit. Entries and transactions are append-only (triggers).
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const ledgerAccounts = sqliteTable(
  "ledger_accounts",
  {
    /** "chn_x:balance", "chn_x:commission", "merchant:revenue", "merchant:deferred_revenue", "gateway:stripe:clearing", "platform:bank" */
    id: text("id").primaryKey(),
    /** The channel id, or "platform". */
    owner: text("owner").notNull(),
    kind: text("kind").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [index("ledger_accounts_owner").on(t.owner, t.kind)],
);

export const ledgerTransactions = sqliteTable(
  "ledger_transactions",
  {
    id: text("id").primaryKey(),
    /** One per source event and leg ("sale:ord_…", "topup:mov_…", "refund:…", "payout:pyo_…", "recognise:rdm_…", "unrecognise:rdm_…"): a redelivery never posts twice. */
    source_key: text("source_key").notNull(),
    type: text("type").notNull(),
    event_id: text("event_id"),
    order_id: text("order_id"),
    channel_id: text("channel_id"),
    currency: text("currency").notNull(),
    memo: text("memo"),
    /** Business time (the source event's time). */
    created_at: integer("created_at").notNull(),
    posted_at: integer("posted_at").notNull(),
    /** Sales: the order's total quantity; a redemption recognises floor(deferred share / units) (migrations/0012). */
    units: integer("units"),
  },
  (t) => [
    uniqueIndex("ledger_transactions_source").on(t.source_key),
    index("ledger_transactions_order").on(t.order_id, t.type),
  ],
);

export const ledgerEntries = sqliteTable(
  "ledger_entries",
  {
    txn_id: text("txn_id").notNull(),
    line: integer("line").notNull(),
    account_id: text("account_id").notNull(),
    channel_id: text("channel_id"),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.txn_id, t.line] }),
    index("ledger_entries_account").on(t.account_id, t.currency, t.created_at),
    index("ledger_entries_channel").on(t.channel_id, t.created_at),
  ],
);

/**
 * Events that cannot post yet (events out of order): refunds and redemptions whose sale is not posted, reversals
 * whose recognition is not posted. Posted by the batch that posts what they wait for, or dropped (see drop_after).
 */
export const ledgerPending = sqliteTable(
  "ledger_pending",
  {
    event_id: text("event_id").primaryKey(),
    order_id: text("order_id").notNull(),
    /** The whole event (JSON; never a code). */
    body: text("body").notNull(),
    reason: text("reason").notNull(),
    /** A late gateway payment refunded (was_fulfilled false) whose sale never came posts as a pass-through after this time. */
    passthrough_after: integer("passthrough_after"),
    /** The source key it waits for (null: "sale:" || order_id). */
    waits_for: text("waits_for"),
    /** Redemptions and reversals: dropped unposted after this time (their order never got a sale, e.g. a root order). */
    drop_after: integer("drop_after"),
    created_at: integer("created_at").notNull(),
  },
  (t) => [index("ledger_pending_order").on(t.order_id)],
);

export const settlementRules = sqliteTable("settlement_rules", {
  channel_id: text("channel_id").primaryKey(),
  bps: integer("bps"),
  fixed_per_unit: integer("fixed_per_unit"),
  cap: integer("cap"),
  /** JSON [{product_id, bps | fixed_per_unit, cap?}] */
  overrides: text("overrides").notNull().default("[]"),
  updated_at: integer("updated_at").notNull(),
  updated_by: text("updated_by").notNull(),
});

export const payouts = sqliteTable(
  "payouts",
  {
    id: text("id").primaryKey(),
    channel_id: text("channel_id").notNull(),
    currency: text("currency").notNull(),
    amount: integer("amount").notNull(),
    /** open | paid */
    status: text("status").notNull().default("open"),
    reference: text("reference"),
    created_by: text("created_by").notNull(),
    created_at: integer("created_at").notNull(),
    paid_at: integer("paid_at"),
    paid_by: text("paid_by"),
  },
  (t) => [index("payouts_channel").on(t.channel_id, t.currency, t.status), index("payouts_status").on(t.status, t.id)],
);
