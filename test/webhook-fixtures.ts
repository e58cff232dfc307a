/** Fixtures for the webhook tests: subscriptions pointed at the local receiver (test/servers/webhook-receiver.ts). */
import { env } from "cloudflare:workers";
import { allocate, createChannel, keyFor, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";

export const RECEIVER = (env as unknown as { WEBHOOK_TEST_RECEIVER: string }).WEBHOOK_TEST_RECEIVER;

export interface Received {
  at: number;
  headers: Record<string, string>;
  body: any;
  raw: string;
  signature_valid: boolean | null;
  answered: number;
}

let seq = 0;
export const hookKey = (label = "h") =>
  `${label}-${Date.now().toString(36)}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
export const hookUrl = (key: string) => `${RECEIVER}/hooks/${key}`;

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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
