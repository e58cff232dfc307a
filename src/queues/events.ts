/**
 * Consumer of the `voucher-events` queue: applies each event to the D1 projections once
 * (by event id, in the same D1 transaction as the change). The whole batch goes to D1 in
 * one transaction so projections do not compete with the hot path for D1; if that fails,
 * each message is tried alone, and the failing ones are retried with backoff and, after
 * max_retries, go to the dead-letter queue.
 */
import type { DomainEvent } from "../objects/outbox";
import { projectionStatements } from "./projections";

function statementsFor(env: Env, event: DomainEvent): D1PreparedStatement[] {
  return [
    ...projectionStatements(env.DB, event),
    env.DB.prepare("INSERT OR IGNORE INTO processed_events (event_id, type, processed_at) VALUES (?1, ?2, ?3)").bind(event.id, event.type, Date.now()),
  ];
}

async function alreadyApplied(env: Env, ids: string[]): Promise<Set<string>> {
  const { results } = await env.DB.prepare("SELECT event_id FROM processed_events WHERE event_id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(ids)).all<{ event_id: string }>();
  return new Set(results.map((r) => r.event_id));
}

export async function handleEvents(batch: MessageBatch<DomainEvent>, env: Env): Promise<void> {
  try {
    const seen = await alreadyApplied(env, batch.messages.map((m) => m.body.id));
    const fresh = new Map<string, DomainEvent>();
    for (const m of batch.messages) if (!seen.has(m.body.id)) fresh.set(m.body.id, m.body);
    if (fresh.size > 0) await env.DB.batch([...fresh.values()].flatMap((e) => statementsFor(env, e)));
    batch.ackAll();
    return;
  } catch {
    // One bad event must not hold the others back: fall through to one message at a time.
  }
  for (const message of batch.messages) {
    const event = message.body;
    try {
      if ((await alreadyApplied(env, [event.id])).size === 0) await env.DB.batch(statementsFor(env, event));
      message.ack();
    } catch (err) {
      console.error(JSON.stringify({ level: "error", at: "events", event_id: event?.id, type: event?.type, error: err instanceof Error ? err.message.slice(0, 200) : "unknown" }));
      message.retry({ delaySeconds: Math.min(300, 2 ** message.attempts) });
    }
  }
}
