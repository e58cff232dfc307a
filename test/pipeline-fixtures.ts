/**
 * Waiting for the event pipeline by condition instead of by time: Durable Object outboxes → EVENTS queue →
 * the events consumer (projections, ledger, settlements, webhook fan-out).
 *
 * Why markers prove something: the local queue (miniflare's broker) keeps one list per queue, appends in the
 * order messages arrive, and hands the consumer one batch at a time, starting the next only after the
 * previous one has returned (it starts one early only while a full batch is waiting, which a marker sent once
 * the outboxes are empty does not meet in these tests).
 */
import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { pendingEvents } from "../src/objects/outbox";
import { eventually } from "./helpers";

const namespaces = () => [env.SKU_POOL, env.CHANNEL_ACCOUNT, env.ABUSE_GUARD] as unknown as DurableObjectNamespace[];

/** Events the Durable Objects have written but not yet handed to the EVENTS queue. */
export async function unsentEvents(): Promise<number> {
  let n = 0;
  for (const ns of namespaces())
    for (const id of await listDurableObjectIds(ns))
      n += await runInDurableObject(ns.get(id) as DurableObjectStub, (_o: unknown, state: DurableObjectState) =>
        pendingEvents(state.storage.sql),
      );
  return n;
}

let markers = 0;

/** Sends an event no projection, ledger rule or webhook knows and waits until the consumer has applied it. */
async function markerApplied(): Promise<void> {
  const id = `evt_testmarker${Date.now().toString(36)}${++markers}`;
  await env.EVENTS.send({
    id,
    type: "test.marker",
    created_at: new Date().toISOString(),
    source: "test:marker",
    seq: markers,
    data: {},
  });
  const row = await eventually(
    () => env.DB.prepare("SELECT 1 AS ok FROM processed_events WHERE event_id = ?1").bind(id).first(),
    (r) => r !== null,
    60_000,
  );
  if (row === null) throw new Error(`the events consumer never applied marker ${id}`);
}

/**
 * Resolves once every event written so far has been through the events consumer, including what the consumer
 * does after its D1 commit (settlements, webhook fan-out). First the outboxes are empty: every event is on the
 * queue. Then a marker is applied: every earlier event was in its batch or an earlier one. Then a second
 * marker, sent after the first was applied and so in a later batch, is applied: the first one's batch has
 * returned, fan-out included.
 */
export async function eventsDrained(): Promise<void> {
  const left = await eventually(unsentEvents, (n) => n === 0, 60_000);
  if (left !== 0) throw new Error(`${left} events are still in the Durable Objects' outboxes`);
  await markerApplied();
  await markerApplied();
}

/**
 * Runs the object's alarm now and returns once that run has finished. runDurableObjectAlarm does nothing (and
 * answers false) while no alarm is scheduled, which is also the case while the object's own alarm is running;
 * then it is tried again, so the run made here never overlaps one the runtime started (the platform never runs
 * two at once either). For objects that always have an alarm scheduled: a ChannelAccount, a SkuPool holding codes.
 */
export async function runAlarmNow(stub: DurableObjectStub): Promise<void> {
  const ran = await eventually(
    () => runDurableObjectAlarm(stub),
    (r) => r,
  );
  if (!ran) throw new Error("the object never had an alarm scheduled to run");
}
