-- How many events of each source (a Durable Object's stream) the consumer has applied,
-- so reconciliation can tell a projection that lags from one that is wrong.
CREATE TABLE `reconciliation_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`date` text NOT NULL,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`differences` text NOT NULL,
	`lagging` text NOT NULL,
	`checked` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reconciliation_runs_date` ON `reconciliation_runs` (`date`,`created_at`);--> statement-breakpoint
CREATE TABLE `source_progress` (
	`source` text PRIMARY KEY NOT NULL,
	`applied` integer DEFAULT 0 NOT NULL
);
