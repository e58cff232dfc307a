CREATE TABLE `channel_products` (
	`channel_id` text NOT NULL,
	`product_id` text NOT NULL,
	`enabled` integer NOT NULL,
	`price` integer,
	`discount_bps` integer,
	`allow_below` integer DEFAULT 0 NOT NULL,
	`low_water` integer,
	`refill` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `product_id`)
);
--> statement-breakpoint
CREATE INDEX `channel_products_product` ON `channel_products` (`product_id`);