-- The merchant itself: the root of the channel tree. Root-token calls act as this channel.
INSERT OR IGNORE INTO channels (id, parent_id, name, type, status, path, depth, created_at)
VALUES ('chn_root', NULL, 'Merchant', 'root', 'active', '/chn_root/', 0, 0);
