CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`actor_key_id` text NOT NULL,
	`actor_channel_id` text NOT NULL,
	`action` text NOT NULL,
	`resource_id` text,
	`status` integer NOT NULL,
	`ip` text,
	`user_agent` text,
	`request_id` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_channel` ON `audit_log` (`actor_channel_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_log_at` ON `audit_log` (`at`);