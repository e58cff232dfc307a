/**
 * Trial-code campaigns (docs/campaigns.md): the catalog row of each campaign, and one row per granted claim for
 * the funnel numbers. The exact budget counts live in each campaign's Durable Object (src/objects/campaign.ts);
 * these rows never hold a code (a claim names its order; the code stays encrypted in the SkuPool).
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const campaigns = sqliteTable(
  "campaigns",
  {
    id: text("id").primaryKey(),
    channel_id: text("channel_id").notNull(),
    product_id: text("product_id").notNull(),
    name: text("name").notNull(),
    /** active | paused | archived */
    status: text("status").notNull(),
    starts_at: integer("starts_at").notNull(),
    ends_at: integer("ends_at").notNull(),
    /** Days a claimed code stays valid from the claim. */
    validity_days: integer("validity_days").notNull(),
    max_claims: integer("max_claims").notNull(),
    daily_max: integer("daily_max"),
    max_amount: integer("max_amount"),
    face_value: integer("face_value").notNull(),
    currency: text("currency").notNull(),
    per_customer_max: integer("per_customer_max").notNull(),
    /** Null, or the partner event that grants a claim automatically ("customer.registered"). */
    grant_on: text("grant_on"),
    /** 1 when consumers may claim from the hosted pages (publishable key, Turnstile, per-IP budget). */
    consumer_claims: integer("consumer_claims").notNull().default(0),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
  },
  (t) => [index("campaigns_channel").on(t.channel_id, t.id)],
);

export const campaignClaims = sqliteTable(
  "campaign_claims",
  {
    id: text("id").primaryKey(),
    campaign_id: text("campaign_id").notNull(),
    channel_id: text("channel_id").notNull(),
    customer_ref: text("customer_ref").notNull(),
    order_id: text("order_id").notNull(),
    claimed_at: integer("claimed_at").notNull(),
    expires_at: integer("expires_at"),
    /** Set by the events consumer from the code's redemption (cleared by its reversal). */
    redeemed_at: integer("redeemed_at"),
    conversions: integer("conversions").notNull().default(0),
    converted_value: integer("converted_value").notNull().default(0),
  },
  (t) => [
    index("campaign_claims_campaign").on(t.campaign_id, t.claimed_at),
    index("campaign_claims_order").on(t.order_id),
    index("campaign_claims_customer").on(t.customer_ref),
  ],
);

/** Events partners post (POST /v1/events), once per Idempotency-Key and channel. */
export const partnerEvents = sqliteTable(
  "partner_events",
  {
    id: text("id").primaryKey(),
    channel_id: text("channel_id").notNull(),
    idem_key: text("idem_key").notNull(),
    type: text("type").notNull(),
    customer_ref: text("customer_ref").notNull(),
    value: integer("value").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("partner_events_key").on(t.channel_id, t.idem_key)],
);
