CREATE TABLE `export_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`scope_path` text NOT NULL,
	`requested_by` text NOT NULL,
	`kind` text NOT NULL,
	`filter` text NOT NULL,
	`status` text NOT NULL,
	`rows` integer DEFAULT 0 NOT NULL,
	`total` integer,
	`parts` integer DEFAULT 0 NOT NULL,
	`cursor` text,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `export_jobs_channel` ON `export_jobs` (`channel_id`,`id`);--> statement-breakpoint
CREATE INDEX `export_jobs_expires` ON `export_jobs` (`expires_at`);--> statement-breakpoint
CREATE TABLE `export_parts` (
	`export_id` text NOT NULL,
	`part` integer NOT NULL,
	`body` text NOT NULL,
	PRIMARY KEY(`export_id`, `part`)
);
