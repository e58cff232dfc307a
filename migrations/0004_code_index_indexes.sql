DROP INDEX `code_index_order`;--> statement-breakpoint
DROP INDEX `code_index_product`;--> statement-breakpoint
CREATE INDEX `code_index_channel` ON `code_index` (`channel_id`,`issued_at`);