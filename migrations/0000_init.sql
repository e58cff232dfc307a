CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`name` text,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_unique` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_channel` ON `api_keys` (`channel_id`,`id`);--> statement-breakpoint
CREATE TABLE `batches` (
	`id` text PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`source` text NOT NULL,
	`status` text NOT NULL,
	`total` integer NOT NULL,
	`done` integer NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE INDEX `batches_product` ON `batches` (`product_id`,`id`);--> statement-breakpoint
CREATE TABLE `channels` (
	`id` text PRIMARY KEY NOT NULL,
	`parent_id` text,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`path` text NOT NULL,
	`depth` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `channels_parent` ON `channels` (`parent_id`,`id`);--> statement-breakpoint
CREATE INDEX `channels_path` ON `channels` (`path`);--> statement-breakpoint
CREATE TABLE `code_index` (
	`blind_index` text PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`shard` integer NOT NULL,
	`batch_id` text NOT NULL,
	`last4` text NOT NULL,
	`status` text NOT NULL,
	`order_id` text,
	`channel_id` text,
	`expires_at` integer,
	`issued_at` integer,
	`redeemed_at` integer,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `code_index_batch` ON `code_index` (`batch_id`);--> statement-breakpoint
CREATE INDEX `code_index_order` ON `code_index` (`order_id`);--> statement-breakpoint
CREATE INDEX `code_index_product` ON `code_index` (`product_id`,`status`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`status` text NOT NULL,
	`customer_ref` text,
	`external_ref` text,
	`currency` text NOT NULL,
	`total_amount` integer NOT NULL,
	`quantity` integer NOT NULL,
	`items` text NOT NULL,
	`failure_reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `orders_channel` ON `orders` (`channel_id`,`id`);--> statement-breakpoint
CREATE INDEX `orders_customer` ON `orders` (`customer_ref`);--> statement-breakpoint
CREATE INDEX `orders_status` ON `orders` (`status`,`id`);--> statement-breakpoint
CREATE TABLE `processed_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`processed_at` integer DEFAULT (unixepoch() * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `products` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`kind` text NOT NULL,
	`face_value` integer,
	`price` integer NOT NULL,
	`currency` text NOT NULL,
	`validity` text NOT NULL,
	`per_order_max` integer,
	`per_customer_max` integer,
	`per_customer_window_days` integer,
	`reversal_window_hours` integer NOT NULL,
	`claim_url_template` text,
	`shards` integer DEFAULT 1 NOT NULL,
	`status` text NOT NULL,
	`metadata` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `products_status` ON `products` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `products_kind` ON `products` (`kind`,`id`);--> statement-breakpoint
CREATE TABLE `redemption_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`action` text NOT NULL,
	`result` text NOT NULL,
	`product_id` text,
	`channel_id` text,
	`ip` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `redemption_attempts_time` ON `redemption_attempts` (`created_at`);--> statement-breakpoint
CREATE TABLE `redemptions` (
	`id` text PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`shard` integer NOT NULL,
	`channel_id` text NOT NULL,
	`order_id` text,
	`last4` text,
	`redeemer` text,
	`redeemed_at` integer NOT NULL,
	`reversed_at` integer
);
--> statement-breakpoint
CREATE INDEX `redemptions_product` ON `redemptions` (`product_id`,`id`);--> statement-breakpoint
CREATE INDEX `redemptions_channel` ON `redemptions` (`channel_id`,`id`);