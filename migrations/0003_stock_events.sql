CREATE TABLE `stock_events` (
	`id` text PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`type` text NOT NULL,
	`quantity` integer,
	`quota` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `stock_events_product` ON `stock_events` (`product_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `stock_events_channel` ON `stock_events` (`channel_id`,`created_at`);