/** The cron's clean-up of D1 records past their retention (src/index.ts sets the retention periods). */

/** Deletes, in one D1 batch, failed redemption attempts, processed event ids, audit entries and logged events before the cut-offs. */
export async function pruneExpired(
  db: D1Database,
  before: { redemptionAttempts: number; processedEvents: number; audit: number; eventLog: number },
): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM redemption_attempts WHERE created_at < ?1").bind(before.redemptionAttempts),
    db.prepare("DELETE FROM processed_events WHERE processed_at < ?1").bind(before.processedEvents),
    db.prepare("DELETE FROM audit_log WHERE at < ?1").bind(before.audit),
    db.prepare("DELETE FROM event_log WHERE created_at < ?1").bind(before.eventLog),
  ]);
}
