/**
 * Consumer of the `voucher-events` queue: applies each event to the D1 projections once
 * (by event id, in the same D1 transaction as the change). The whole batch goes to D1 in
 * one transaction so projections do not compete with the hot path for D1; if that fails,
 * each message is tried alone, and the failing ones are retried with backoff and, after
 * max_retries, go to the dead-letter queue.
 */
import { rollupAdd } from "../db/analytics";
import { logEvent } from "../db/event-log";
import { appliedEventIds, countApplied, markProcessed } from "../db/projections";
import { businessOffsetMs } from "../domain/analytics-range";
import { logEntry } from "../domain/event-log";
import { rollupDeltas } from "../domain/rollups";
import type { DomainEvent } from "../objects/outbox";
import { ledgerStatements, publishSettlements } from "./ledger";
import { notifyLive } from "./live-notify";
import { projectionStatements } from "./projections";
import { fanOutWebhooks } from "./webhook-fanout";

function statementsFor(env: Env, event: DomainEvent): D1PreparedStatement[] {
  const logged = logEntry(event);
  return [
    ...(logged ? [logEvent(env.DB, event, logged)] : []),
    ...projectionStatements(env.DB, event),
    // Before markProcessed: each roll-up statement checks processed_events, so an event counts once.
    ...rollupDeltas(event).flatMap((d) =>
      rollupAdd(env.DB, { event: event.id }, d, businessOffsetMs(env.ANALYTICS_TZ_OFFSET_MINUTES)),
    ),
    markProcessed(env.DB, event.id, event.type, Date.now()),
    // Counted only when the line above inserted (changes() = 1): reconciliation compares this count with the
    // object's own event count to tell a lagging projection from a wrong one.
    countApplied(env.DB, event.source),
  ];
}

export async function handleEvents(batch: MessageBatch<DomainEvent>, env: Env): Promise<void> {
  try {
    const seen = await appliedEventIds(
      env.DB,
      batch.messages.map((m) => m.body.id),
    );
    const fresh = new Map<string, DomainEvent>();
    for (const m of batch.messages) if (!seen.has(m.body.id)) fresh.set(m.body.id, m.body);
    // Ledger rows go into the same D1 transaction as the projections and processed_events (queues/ledger.ts);
    // the ledger also posts parked refunds whose sale has arrived, so it runs even when every event was seen.
    const statements = [
      ...[...fresh.values()].flatMap((e) => statementsFor(env, e)),
      ...(await ledgerStatements(env, [...fresh.values()])),
    ];
    if (statements.length > 0) await env.DB.batch(statements);
    // After the commit: announce posted splits (deterministic ids, so a redelivery repeats the same event).
    await publishSettlements(
      env,
      batch.messages.map((m) => m.body),
    );
    // Webhook deliveries for every event of the batch, redelivered ones too: unique per (subscription, event), enqueued once.
    await fanOutWebhooks(
      env,
      batch.messages.map((m) => m.body),
    );
    batch.ackAll();
    await notifyLive(env, [...fresh.values()]);
    return;
  } catch {
    // One bad event must not hold the others back: fall through to one message at a time.
  }
  for (const message of batch.messages) {
    const event = message.body;
    try {
      if ((await appliedEventIds(env.DB, [event.id])).size === 0)
        await env.DB.batch([...statementsFor(env, event), ...(await ledgerStatements(env, [event]))]);
      await publishSettlements(env, [event]);
      await fanOutWebhooks(env, [event]);
      message.ack();
      await notifyLive(env, [event]);
    } catch (err) {
      console.error(
        JSON.stringify({
          level: "error",
          at: "events",
          event_id: event?.id,
          type: event?.type,
          error: err instanceof Error ? err.message.slice(0, 200) : "unknown",
        }),
      );
      message.retry({ delaySeconds: Math.min(300, 2 ** message.attempts) });
    }
  }
}
