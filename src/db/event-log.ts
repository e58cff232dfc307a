/** The event log on D1 (table `event_log`): written by the events consumer in its batch, read by GET /v1/events. */
import type { LogEntry } from "../domain/event-log";

/** One log row; a redelivered event is ignored (its id is the key). */
export function logEvent(
  db: D1Database,
  e: { id: string; type: string; created_at: string },
  entry: LogEntry,
): D1PreparedStatement {
  return db
    .prepare(
      "INSERT OR IGNORE INTO event_log (id, type, channel_id, subject_id, summary, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(e.id, e.type, entry.channelId, entry.subjectId, JSON.stringify(entry.summary), Date.parse(e.created_at) || 0);
}

export interface EventRow {
  id: string;
  type: string;
  channel_id: string;
  subject_id: string | null;
  summary: string;
  created_at: number;
}

/** The subtree's events, newest first, optionally of one type or type prefix (`order.`), `limit + 1` rows. */
export async function listEvents(
  db: D1Database,
  scopePath: string,
  q: { type?: string; cursor?: string; limit: number },
): Promise<EventRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, type, channel_id, subject_id, summary, created_at FROM event_log
       WHERE channel_id IN (SELECT id FROM channels WHERE substr(path, 1, length(?1)) = ?1)
         AND (?2 IS NULL OR type = ?2 OR (substr(?2, -1) = '.' AND substr(type, 1, length(?2)) = ?2))
         AND (?3 IS NULL OR id < ?3)
       ORDER BY id DESC LIMIT ?4`,
    )
    .bind(scopePath, q.type ?? null, q.cursor ?? null, q.limit + 1)
    .all<EventRow>();
  return results;
}
