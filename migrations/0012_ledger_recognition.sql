-- Revenue recognition on redemption (docs/ledger.md): a sale's unit count; parked events wait for a source key and may be dropped.
ALTER TABLE `ledger_pending` ADD `waits_for` text;--> statement-breakpoint
ALTER TABLE `ledger_pending` ADD `drop_after` integer;--> statement-breakpoint
ALTER TABLE `ledger_transactions` ADD `units` integer;