/** D1 tables of signed webhooks (drizzle mirror of migrations/0009_webhooks.sql). */
import { index, integer, sqliteTable, text, unique } from "drizzle-orm/sqlite-core";

export const webhookSubscriptions = sqliteTable(
  "webhook_subscriptions",
  {
    id: text("id").primaryKey(),
    channel_id: text("channel_id").notNull(),
    url: text("url").notNull(),
    /** JSON array of filters: exact types, `family.*` or `*`. */
    events: text("events").notNull(),
    description: text("description"),
    /** active | disabled | deleted (deleted ones are hidden but keep their delivery log). */
    status: text("status").notNull().default("active"),
    /** AES-256-GCM of the `whsec_…` secret under a key derived from CODE_ENCRYPTION_KEY; never plaintext. */
    secret_sealed: text("secret_sealed").notNull(),
    secret_key_id: text("secret_key_id").notNull(),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
    deleted_at: integer("deleted_at"),
  },
  (t) => [
    index("webhook_subscriptions_channel").on(t.channel_id, t.id),
    index("webhook_subscriptions_status").on(t.status),
  ],
);

/** Events as sent to subscribers (kept for replay). */
export const webhookEvents = sqliteTable("webhook_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  source: text("source").notNull(),
  seq: integer("seq").notNull(),
  body: text("body").notNull(),
  created_at: integer("created_at").notNull(),
});

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    subscription_id: text("subscription_id").notNull(),
    event_id: text("event_id").notNull(),
    event_type: text("event_type").notNull(),
    /** pending | delivered | failed | dead */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    last_status_code: integer("last_status_code"),
    last_error: text("last_error"),
    next_attempt_at: integer("next_attempt_at"),
    /** Set when the WEBHOOKS message was sent (claimed), so a redelivered fan-out sends it once. */
    enqueued_at: integer("enqueued_at"),
    delivered_at: integer("delivered_at"),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [
    unique().on(t.subscription_id, t.event_id),
    index("webhook_deliveries_subscription").on(t.subscription_id, t.id),
    index("webhook_deliveries_event").on(t.event_id),
  ],
);

export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    delivery_id: text("delivery_id").notNull(),
    attempt: integer("attempt").notNull(),
    /** queue | replay | ping */
    trigger: text("trigger").notNull(),
    status_code: integer("status_code"),
    error: text("error"),
    duration_ms: integer("duration_ms").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("webhook_attempts_delivery").on(t.delivery_id, t.id)],
);
