CREATE TABLE `analytics_hourly` (
	`hour` integer NOT NULL,
	`channel_id` text NOT NULL,
	`product_id` text NOT NULL,
	`currency` text NOT NULL,
	`orders` integer DEFAULT 0 NOT NULL,
	`units` integer DEFAULT 0 NOT NULL,
	`revenue` integer DEFAULT 0 NOT NULL,
	`redemptions` integer DEFAULT 0 NOT NULL,
	`refunds` integer DEFAULT 0 NOT NULL,
	`refund_amount` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`hour`, `channel_id`, `product_id`, `currency`)
);
--> statement-breakpoint
CREATE INDEX `analytics_hourly_channel` ON `analytics_hourly` (`channel_id`,`hour`);