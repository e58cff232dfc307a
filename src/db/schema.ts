/**
 * D1 schema (drizzle). D1 holds the catalog and projections for queries and
 * reports; Durable Objects hold the truth about codes, stock and orders.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const channels = sqliteTable(
  "channels",
  {
    id: text("id").primaryKey(),
    parent_id: text("parent_id"),
    name: text("name").notNull(),
    type: text("type").notNull(),
    status: text("status").notNull().default("active"),
    /** Materialised path "/chn_root/chn_a/…/" so a subtree is one prefix query. */
    path: text("path").notNull(),
    depth: integer("depth").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [index("channels_parent").on(t.parent_id, t.id), index("channels_path").on(t.path)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    channel_id: text("channel_id").notNull(),
    name: text("name"),
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key, hex; the key itself is shown once and never stored. */
    hash: text("hash").notNull().unique(),
    scopes: text("scopes").notNull(),
    created_at: integer("created_at").notNull(),
    expires_at: integer("expires_at"),
    revoked_at: integer("revoked_at"),
    last_used_at: integer("last_used_at"),
    /** Requests per minute for this key (null: the API_LIMITER default). */
    rate_limit_per_minute: integer("rate_limit_per_minute"),
    /** Code reveals (GET /v1/orders/{id}) per hour for this key (null: unlimited). */
    reveal_limit_per_hour: integer("reveal_limit_per_hour"),
    /** 1: every request must carry a valid X-Signature (HMAC over method, path, timestamp, nonce, body hash). */
    require_signature: integer("require_signature").notNull().default(0),
  },
  (t) => [index("api_keys_channel").on(t.channel_id, t.id)],
);

export const products = sqliteTable(
  "products",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    kind: text("kind").notNull(),
    face_value: integer("face_value"),
    price: integer("price").notNull(),
    currency: text("currency").notNull(),
    validity: text("validity").notNull(),
    per_order_max: integer("per_order_max"),
    per_customer_max: integer("per_customer_max"),
    per_customer_window_days: integer("per_customer_window_days"),
    reversal_window_hours: integer("reversal_window_hours").notNull(),
    claim_url_template: text("claim_url_template"),
    shards: integer("shards").notNull().default(1),
    status: text("status").notNull(),
    metadata: text("metadata"),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [index("products_status").on(t.status, t.id), index("products_kind").on(t.kind, t.id)],
);

export const batches = sqliteTable(
  "batches",
  {
    id: text("id").primaryKey(),
    product_id: text("product_id").notNull(),
    source: text("source").notNull(),
    status: text("status").notNull(),
    total: integer("total").notNull(),
    done: integer("done").notNull(),
    error: text("error"),
    created_at: integer("created_at").notNull(),
    completed_at: integer("completed_at"),
  },
  (t) => [index("batches_product").on(t.product_id, t.id)],
);

export const codeIndex = sqliteTable(
  "code_index",
  {
    blind_index: text("blind_index").primaryKey(),
    product_id: text("product_id").notNull(),
    shard: integer("shard").notNull(),
    batch_id: text("batch_id").notNull(),
    last4: text("last4").notNull(),
    status: text("status").notNull(),
    order_id: text("order_id"),
    channel_id: text("channel_id"),
    expires_at: integer("expires_at"),
    issued_at: integer("issued_at"),
    redeemed_at: integer("redeemed_at"),
    /** Sequence of the last event applied, so an older event never overwrites a newer state. */
    version: integer("version").notNull().default(0),
    created_at: integer("created_at").notNull(),
  },
  // Few secondary indexes: every generated code writes a row here, so each index costs bulk speed.
  (t) => [index("code_index_batch").on(t.batch_id), index("code_index_channel").on(t.channel_id, t.issued_at)],
);

export const orders = sqliteTable(
  "orders",
  {
    id: text("id").primaryKey(),
    channel_id: text("channel_id").notNull(),
    status: text("status").notNull(),
    customer_ref: text("customer_ref"),
    external_ref: text("external_ref"),
    currency: text("currency").notNull(),
    total_amount: integer("total_amount").notNull(),
    quantity: integer("quantity").notNull(),
    items: text("items").notNull(),
    failure_reason: text("failure_reason"),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [
    index("orders_channel").on(t.channel_id, t.id),
    index("orders_customer").on(t.customer_ref),
    index("orders_status").on(t.status, t.id),
  ],
);

export const redemptions = sqliteTable(
  "redemptions",
  {
    id: text("id").primaryKey(),
    product_id: text("product_id").notNull(),
    shard: integer("shard").notNull(),
    channel_id: text("channel_id").notNull(),
    order_id: text("order_id"),
    last4: text("last4"),
    redeemer: text("redeemer"),
    redeemed_at: integer("redeemed_at").notNull(),
    reversed_at: integer("reversed_at"),
  },
  (t) => [index("redemptions_product").on(t.product_id, t.id), index("redemptions_channel").on(t.channel_id, t.id)],
);

/** Every failed verify / redeem, for support and abuse analysis; never the code itself. */
export const redemptionAttempts = sqliteTable(
  "redemption_attempts",
  {
    id: text("id").primaryKey(),
    action: text("action").notNull(),
    result: text("result").notNull(),
    product_id: text("product_id"),
    channel_id: text("channel_id"),
    ip: text("ip"),
    created_at: integer("created_at").notNull(),
  },
  (t) => [index("redemption_attempts_time").on(t.created_at)],
);

export const processedEvents = sqliteTable("processed_events", {
  event_id: text("event_id").primaryKey(),
  type: text("type").notNull(),
  processed_at: integer("processed_at").notNull().default(sql`(unixepoch() * 1000)`),
});

/** A channel's product pool and price list, and its replenishment rule, per product. */
export const channelProducts = sqliteTable(
  "channel_products",
  {
    channel_id: text("channel_id").notNull(),
    product_id: text("product_id").notNull(),
    enabled: integer("enabled").notNull(),
    price: integer("price"),
    discount_bps: integer("discount_bps"),
    allow_below: integer("allow_below").notNull().default(0),
    low_water: integer("low_water"),
    refill: integer("refill"),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.channel_id, t.product_id] }), index("channel_products_product").on(t.product_id)],
);

/** stock.low and stock.refilled events, for dashboards and alerts (projected from the events queue). */
export const stockEvents = sqliteTable(
  "stock_events",
  {
    id: text("id").primaryKey(),
    product_id: text("product_id").notNull(),
    channel_id: text("channel_id").notNull(),
    type: text("type").notNull(),
    quantity: integer("quantity"),
    quota: integer("quota").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [
    index("stock_events_product").on(t.product_id, t.created_at),
    index("stock_events_channel").on(t.channel_id, t.created_at),
  ],
);

/** Append-only audit log: every admin mutation and every code reveal. Never request or response bodies. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    at: integer("at").notNull(),
    actor_key_id: text("actor_key_id").notNull(),
    actor_channel_id: text("actor_channel_id").notNull(),
    /** Method and route pattern, e.g. "POST /v1/products/{id}/batches". */
    action: text("action").notNull(),
    resource_id: text("resource_id"),
    status: integer("status").notNull(),
    ip: text("ip"),
    user_agent: text("user_agent"),
    request_id: text("request_id"),
  },
  (t) => [index("audit_log_channel").on(t.actor_channel_id, t.id), index("audit_log_at").on(t.at)],
);

/** Console users: email + PBKDF2-SHA256 password hash (`pbkdf2-sha256$100000$<salt>$<hash>`), a role, and login lockout. */
export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  /** Lower-cased. */
  email: text("email").notNull().unique(),
  password_hash: text("password_hash").notNull(),
  role: text("role").notNull(),
  /** The channel a channel_manager acts for; null for the other roles (they act as the root). */
  channel_id: text("channel_id"),
  status: text("status").notNull().default("active"),
  failed_logins: integer("failed_logins").notNull().default(0),
  locked_until: integer("locked_until"),
  created_at: integer("created_at").notNull(),
  updated_at: integer("updated_at").notNull(),
});

/** Console sessions: the cookie holds a signed JWT naming the row; the CSRF token is stored as SHA-256 only. */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    user_id: text("user_id").notNull(),
    created_at: integer("created_at").notNull(),
    expires_at: integer("expires_at").notNull(),
    revoked_at: integer("revoked_at"),
    csrf_hash: text("csrf_hash").notNull(),
    ip: text("ip"),
    user_agent: text("user_agent"),
  },
  (t) => [index("sessions_user").on(t.user_id, t.id)],
);
