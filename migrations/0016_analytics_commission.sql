ALTER TABLE `analytics_daily` ADD `commission` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `analytics_daily` ADD `merchant_share` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `analytics_daily_product` ON `analytics_daily` (`product_id`,`day`,`channel_id`,`currency`,`orders`,`units`,`revenue`,`redemptions`);--> statement-breakpoint
ALTER TABLE `analytics_hourly` ADD `commission` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `analytics_hourly` ADD `merchant_share` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Back-fill commission and the merchant's share from the ledger's sales and refunds posted before this column
-- existed (the events consumer adds them from now on). Daily rows use the default business day (UTC+8,
-- ANALYTICS_TZ_OFFSET_MINUTES = 480): a deployment with another offset re-runs this with its own.
INSERT INTO `analytics_hourly` (`hour`, `channel_id`, `product_id`, `currency`, `commission`, `merchant_share`)
SELECT (e.created_at / 3600000) * 3600000, CASE a.kind WHEN 'commission' THEN a.owner ELSE 'chn_root' END, '', e.currency,
  -SUM(CASE a.kind WHEN 'commission' THEN e.amount ELSE 0 END), -SUM(CASE a.kind WHEN 'commission' THEN 0 ELSE e.amount END)
FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.txn_id
WHERE t.type IN ('sale', 'refund') AND a.kind IN ('commission', 'deferred_revenue', 'revenue')
GROUP BY 1, 2, 4
ON CONFLICT (`hour`, `channel_id`, `product_id`, `currency`) DO UPDATE SET commission = excluded.commission, merchant_share = excluded.merchant_share;
--> statement-breakpoint
INSERT INTO `analytics_daily` (`day`, `channel_id`, `product_id`, `currency`, `commission`, `merchant_share`)
SELECT ((e.created_at + 28800000) / 86400000) * 86400000 - 28800000, CASE a.kind WHEN 'commission' THEN a.owner ELSE 'chn_root' END, '', e.currency,
  -SUM(CASE a.kind WHEN 'commission' THEN e.amount ELSE 0 END), -SUM(CASE a.kind WHEN 'commission' THEN 0 ELSE e.amount END)
FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.txn_id
WHERE t.type IN ('sale', 'refund') AND a.kind IN ('commission', 'deferred_revenue', 'revenue')
GROUP BY 1, 2, 4
ON CONFLICT (`day`, `channel_id`, `product_id`, `currency`) DO UPDATE SET commission = excluded.commission, merchant_share = excluded.merchant_share;
