CREATE TABLE `analytics_daily` (
	`day` integer NOT NULL,
	`channel_id` text NOT NULL,
	`product_id` text NOT NULL,
	`currency` text NOT NULL,
	`orders` integer DEFAULT 0 NOT NULL,
	`units` integer DEFAULT 0 NOT NULL,
	`revenue` integer DEFAULT 0 NOT NULL,
	`redemptions` integer DEFAULT 0 NOT NULL,
	`refunds` integer DEFAULT 0 NOT NULL,
	`refund_amount` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day`, `channel_id`, `product_id`, `currency`)
);
--> statement-breakpoint
CREATE INDEX `analytics_daily_channel_product` ON `analytics_daily` (`channel_id`,`product_id`,`day`);--> statement-breakpoint
CREATE INDEX `analytics_hourly_channel_product` ON `analytics_hourly` (`channel_id`,`product_id`,`hour`);