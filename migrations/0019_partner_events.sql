CREATE TABLE `partner_events` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`idem_key` text NOT NULL,
	`type` text NOT NULL,
	`customer_ref` text NOT NULL,
	`value` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `partner_events_key` ON `partner_events` (`channel_id`,`idem_key`);