-- Consumer checkout and payment gateways (issue 5, item 1). Durable Objects hold the truth about orders
-- and stock; these tables record what gateways told us (for reconciliation and support) and the keys.
CREATE TABLE `checkout_orders` (
	`order_id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`gateway` text NOT NULL,
	`payment_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payment_notice_rejections` (
	`gateway` text NOT NULL,
	`day` text NOT NULL,
	`reason` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`last_at` integer NOT NULL,
	PRIMARY KEY(`gateway`, `day`, `reason`)
);
--> statement-breakpoint
CREATE TABLE `payment_notices` (
	`id` text PRIMARY KEY NOT NULL,
	`gateway` text NOT NULL,
	`notice_id` text NOT NULL,
	`kind` text NOT NULL,
	`order_id` text,
	`channel_id` text,
	`payment_id` text,
	`amount` integer,
	`currency` text,
	`outcome` text NOT NULL,
	`deliveries` integer DEFAULT 1 NOT NULL,
	`received_at` integer NOT NULL,
	`last_received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payment_notices_gateway_notice` ON `payment_notices` (`gateway`,`notice_id`);--> statement-breakpoint
CREATE INDEX `payment_notices_order` ON `payment_notices` (`order_id`);--> statement-breakpoint
CREATE INDEX `payment_notices_received` ON `payment_notices` (`received_at`);--> statement-breakpoint
CREATE TABLE `publishable_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`name` text,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`allowed_origins` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `publishable_keys_hash_unique` ON `publishable_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `publishable_keys_channel` ON `publishable_keys` (`channel_id`,`id`);--> statement-breakpoint
CREATE TABLE `refunds` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`to` text NOT NULL,
	`gateway` text,
	`gateway_refund_id` text,
	`reason` text NOT NULL,
	`was_fulfilled` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `refunds_order_unique` ON `refunds` (`order_id`);
