CREATE TABLE `campaign_claims` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`customer_ref` text NOT NULL,
	`order_id` text NOT NULL,
	`claimed_at` integer NOT NULL,
	`expires_at` integer,
	`redeemed_at` integer,
	`conversions` integer DEFAULT 0 NOT NULL,
	`converted_value` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `campaign_claims_campaign` ON `campaign_claims` (`campaign_id`,`claimed_at`);--> statement-breakpoint
CREATE INDEX `campaign_claims_order` ON `campaign_claims` (`order_id`);--> statement-breakpoint
CREATE INDEX `campaign_claims_customer` ON `campaign_claims` (`customer_ref`);--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`product_id` text NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`validity_days` integer NOT NULL,
	`max_claims` integer NOT NULL,
	`daily_max` integer,
	`max_amount` integer,
	`face_value` integer NOT NULL,
	`currency` text NOT NULL,
	`per_customer_max` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `campaigns_channel` ON `campaigns` (`channel_id`,`id`);