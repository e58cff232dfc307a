CREATE TABLE `order_access` (
	`order_id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`password_hash` text,
	`revealed_at` integer,
	`created_at` integer NOT NULL
);
