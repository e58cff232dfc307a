-- Double-entry ledger, split-settlement rules and payouts (docs/ledger.md).
-- Sign convention: amount > 0 is a debit, amount < 0 a credit; every transaction's entries sum to 0 per currency.
CREATE TABLE `ledger_accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`kind` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ledger_accounts_owner` ON `ledger_accounts` (`owner`,`kind`);--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`txn_id` text NOT NULL,
	`line` integer NOT NULL,
	`account_id` text NOT NULL,
	`channel_id` text,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`txn_id`, `line`)
);
--> statement-breakpoint
CREATE INDEX `ledger_entries_account` ON `ledger_entries` (`account_id`,`currency`,`created_at`);--> statement-breakpoint
CREATE INDEX `ledger_entries_channel` ON `ledger_entries` (`channel_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `ledger_pending` (
	`event_id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`body` text NOT NULL,
	`reason` text NOT NULL,
	`passthrough_after` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ledger_pending_order` ON `ledger_pending` (`order_id`);--> statement-breakpoint
CREATE TABLE `ledger_transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`source_key` text NOT NULL,
	`type` text NOT NULL,
	`event_id` text,
	`order_id` text,
	`channel_id` text,
	`currency` text NOT NULL,
	`memo` text,
	`created_at` integer NOT NULL,
	`posted_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_transactions_source` ON `ledger_transactions` (`source_key`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_order` ON `ledger_transactions` (`order_id`,`type`);--> statement-breakpoint
CREATE TABLE `payouts` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`currency` text NOT NULL,
	`amount` integer NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`reference` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`paid_at` integer,
	`paid_by` text
);
--> statement-breakpoint
CREATE INDEX `payouts_channel` ON `payouts` (`channel_id`,`currency`,`status`);--> statement-breakpoint
CREATE INDEX `payouts_status` ON `payouts` (`status`,`id`);--> statement-breakpoint
CREATE TABLE `settlement_rules` (
	`channel_id` text PRIMARY KEY NOT NULL,
	`bps` integer,
	`fixed_per_unit` integer,
	`cap` integer,
	`overrides` text DEFAULT '[]' NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` text NOT NULL
);--> statement-breakpoint
-- Ledger rows are append-only: a correction is a new, reversing transaction.
CREATE TRIGGER `ledger_entries_no_update` BEFORE UPDATE ON `ledger_entries` BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `ledger_entries_no_delete` BEFORE DELETE ON `ledger_entries` BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `ledger_transactions_no_update` BEFORE UPDATE ON `ledger_transactions` BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;--> statement-breakpoint
CREATE TRIGGER `ledger_transactions_no_delete` BEFORE DELETE ON `ledger_transactions` BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;
