ALTER TABLE `api_keys` ADD `rate_limit_per_minute` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `reveal_limit_per_hour` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `require_signature` integer DEFAULT 0 NOT NULL;