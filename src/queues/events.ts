/**
 * Consumer of the `voucher-events` queue: applies each event to the D1 projections once
 * (by event id, in the same D1 transaction as the change). A failing message is retried
 * with backoff and, after max_retries, goes to the dead-letter queue.
 */
import type { DomainEvent } from "../objects/outbox";
import { projectionStatements } from "./projections";

export async function handleEvents(batch: MessageBatch<DomainEvent>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const event = message.body;
    try {
      const seen = await env.DB.prepare("SELECT 1 AS x FROM processed_events WHERE event_id = ?1").bind(event.id).first();
      if (!seen) {
        await env.DB.batch([
          ...projectionStatements(env.DB, event),
          env.DB.prepare("INSERT OR IGNORE INTO processed_events (event_id, type, processed_at) VALUES (?1, ?2, ?3)").bind(event.id, event.type, Date.now()),
        ]);
      }
      message.ack();
    } catch (err) {
      console.error(JSON.stringify({ level: "error", at: "events", event_id: event?.id, type: event?.type, error: err instanceof Error ? err.message.slice(0, 200) : "unknown" }));
      message.retry({ delaySeconds: Math.min(300, 2 ** message.attempts) });
    }
  }
}
