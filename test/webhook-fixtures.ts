/** Fixtures for the webhook tests: subscriptions pointed at the local receiver (test/servers/webhook-receiver.ts). */
import { env } from "cloudflare:workers";
import { allocate, createChannel, keyFor, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";
import { eventsDrained } from "./pipeline-fixtures";

export const RECEIVER = (env as unknown as { WEBHOOK_TEST_RECEIVER: string }).WEBHOOK_TEST_RECEIVER;

export interface Received {
  at: number;
  headers: Record<string, string>;
  body: any;
  raw: string;
  signature_valid: boolean | null;
  answered: number;
  /** Whether the receiver had sent its answer (false while it holds or delays it). */
  replied: boolean;
}

let seq = 0;
export const hookKey = (label = "h") =>
  `${label}-${Date.now().toString(36)}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
export const hookUrl = (key: string) => `${RECEIVER}/hooks/${key}`;

/** The requests (or anything with a body) of one event type. */
export const ofType = <R extends { body: any }>(reqs: R[], type: string) => reqs.filter((r) => r.body?.type === type);

export async function control(key: string, cfg: Record<string, unknown>) {
  const res = await fetch(`${RECEIVER}/_control/${key}`, { method: "POST", body: JSON.stringify(cfg) });
  if (res.status !== 200) throw new Error(`receiver control: ${res.status}`);
}

export async function received(key: string): Promise<Received[]> {
  const res = await fetch(`${RECEIVER}/_control/${key}/requests`);
  return ((await res.json()) as { requests: Received[] }).requests;
}

/** Subscribes the receiver's hook `key` and tells the receiver the secret, so it verifies every signature. */
export async function subscribe(key: string, events: string[], opts: { token?: string; channel_id?: string } = {}) {
  const res = await call(
    "POST",
    "/v1/webhooks",
    { url: hookUrl(key), events, ...(opts.channel_id ? { channel_id: opts.channel_id } : {}) },
    { token: opts.token },
  );
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${res.text}`);
  await control(key, { secret: res.json.secret });
  return res.json as { id: string; secret: string; channel_id: string };
}

export async function waitForRequests(key: string, check: (r: Received[]) => boolean, timeoutMs = 30_000) {
  return eventually(() => received(key), check, timeoutMs);
}

export async function deliveries(webhookId: string, query = "") {
  const res = await call("GET", `/v1/webhooks/${webhookId}/deliveries?limit=100${query}`);
  if (res.status !== 200) throw new Error(`deliveries: ${res.status} ${res.text}`);
  return res.json.data as any[];
}

let marker: Promise<{ id: string; key: string }> | undefined;
let markerSeq = 0;

/**
 * Resolves once every webhook delivery that could still be on its way has been sent and answered, so a test
 * can assert that something did NOT arrive (a duplicate, a delivery to the wrong subtree). Every event written
 * so far is fanned out first (eventsDrained). Then a marker delivery is put on the WEBHOOKS queue behind every
 * delivery already there and waited for; the local queue sends one batch at a time, in order (its batch
 * timeout is 0), so a second marker, sent once the first is delivered, runs in a later batch: when it is
 * delivered, every earlier delivery's request has been made. The marker's subscription (root, `webhook.ping`
 * only) is never a fan-out target, and its deliveries reach a receiver hook of their own.
 */
export async function webhooksDrained(): Promise<void> {
  await eventsDrained();
  marker ??= (async () => {
    const key = hookKey("drain-marker");
    return { id: (await subscribe(key, ["webhook.ping"])).id, key };
  })();
  const sub = await marker;
  for (let round = 0; round < 2; round++) {
    const n = ++markerSeq;
    const [eventId, deliveryId] = [`evt_drainmarker${n}`, `dlv_drainmarker${Date.now().toString(36)}${n}`];
    const event = {
      id: eventId,
      type: "webhook.ping",
      created_at: new Date().toISOString(),
      source: `webhook:${sub.id}`,
      seq: n,
      data: { webhook_id: sub.id },
    };
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT OR IGNORE INTO webhook_events (id, type, source, seq, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      ).bind(eventId, event.type, event.source, n, JSON.stringify(event), now),
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, status, attempts, enqueued_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?5)",
      ).bind(deliveryId, sub.id, eventId, event.type, now),
    ]);
    await env.WEBHOOKS.send({ delivery_id: deliveryId }, { contentType: "json" });
    const done = await eventually(
      () =>
        env.DB.prepare("SELECT status FROM webhook_deliveries WHERE id = ?1")
          .bind(deliveryId)
          .first<{ status: string }>(),
      (r) => r?.status === "delivered",
      60_000,
    );
    if (done?.status !== "delivered") throw new Error(`webhook marker ${deliveryId} was never delivered`);
  }
}

/** A partner channel that pays from its balance (so its orders emit order.paid), with `codes` codes of one product. */
export async function payingChannel(name: string, codes: number) {
  const channel = await createChannel(name, "partner");
  const product = await productWithCodes(codes);
  for (const [what, res] of [
    ["entry", await setEntry(channel.id, product.id, {})],
    ["quota", await allocate(product.id, channel.id, codes)],
    ["top-up", await topUp(channel.id, 10_000_000)],
  ] as const) {
    if (res.status >= 300) throw new Error(`payingChannel ${what}: ${res.status} ${res.text}`);
  }
  return { channel, product, token: await keyFor(channel.id) };
}
