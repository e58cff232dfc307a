/**
 * Fixtures for the direct top-up tests: the fake provider (scripts/fake-topup-provider.mjs, started by
 * vitest.config.ts and reached over real HTTP), a top-up product, channels that order it, and hand-made
 * deliveries of TOPUPS messages.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { handleTopups } from "../src/queues/topups";
import { createChannel, keyFor, setEntry, topUp } from "./channel-fixtures";
import { call, createProduct, eventually, idemKey } from "./helpers";

export const FAKE = (env as any).TOPUP_PROVIDER_URL as string;
export const SECRET = (env as any).TOPUP_PROVIDER_SECRET as string;
export const PRICE = 9_800;

export const fake = async (path: string, body?: unknown) =>
  (await fetch(`${FAKE}${path}`, body ? { method: "POST", body: JSON.stringify(body) } : {})).json() as Promise<any>;
/** What the provider booked for an order, if anything. */
export const record = async (orderId: string) =>
  (await fake("/_log")).records.find((r: any) => r.out_trade_no === `${orderId}-0`);
/** How many requests of a type (submit, query) the provider got for an order. */
export const calls = async (orderId: string, type: string) =>
  (await fake("/_log")).calls.filter((c: any) => c.out_trade_no === `${orderId}-0` && c.type === type).length;

/** The top-up product of a test file (run in its beforeAll); the provider fails …9999 accounts twice. */
export async function topupProduct(): Promise<{ id: string }> {
  const product = await createProduct({
    kind: "topup",
    name: "China Mobile 100",
    price: PRICE,
    face_value: 10_000,
    currency: "CNY",
    metadata: { provider_sku: "CM100" },
  });
  await fake("/_control", { fail_times: 2 });
  return product;
}

export async function channelWith(productId: string, balance: number) {
  const ch = await createChannel(`Topup ${idemKey("c")}`, "partner");
  await setEntry(ch.id, productId, {});
  if (balance) await topUp(ch.id, balance);
  return { id: ch.id, key: await keyFor(ch.id) };
}

export const orderTopup = (
  productId: string,
  token: string | undefined,
  account: unknown,
  key = idemKey("tu"),
  extra: Record<string, unknown> = {},
) =>
  call(
    "POST",
    "/v1/orders",
    { items: [{ product_id: productId, quantity: 1, account, ...extra }] },
    { token, headers: { "idempotency-key": key } },
  );

export const getOrder = (id: string, token?: string) => call("GET", `/v1/orders/${id}`, undefined, { token });

/** Polls the order until the top-up is no longer processing. */
export const settled = (id: string, token?: string, timeoutMs = 30_000) =>
  eventually(
    () => getOrder(id, token),
    (r) => r.json?.topup?.status !== "processing" && r.json?.status !== "processing",
    timeoutMs,
  );

export const balanceOf = async (channelId: string) =>
  (await call("GET", `/v1/channels/${channelId}/balance?limit=100`)).json;

/** Polls the D1 projection of the order until it has `status`. */
export const projected = (id: string, status: string) =>
  eventually(
    () => env.DB.prepare("SELECT status FROM orders WHERE id = ?1").bind(id).first<{ status: string }>(),
    (r) => r?.status === status,
  );

export const eventCount = async (type: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM processed_events WHERE type = ?1")
    .bind(type)
    .first<{ n: number }>())!.n;

/** Every movement of the channel adds up to its balance, and the balance never went below zero. */
export function expectBooksBalance(bal: any, start: number) {
  expect(bal.reserved).toBe(0);
  expect(bal.movements.reduce((s: number, m: any) => s + (m.kind === "credit_limit" ? 0 : m.amount), 0)).toBe(
    bal.balance,
  );
  expect(bal.movements.every((m: any) => m.balance_after >= 0)).toBe(true);
  expect(bal.balance).toBeGreaterThanOrEqual(0);
  expect(bal.balance).toBeLessThanOrEqual(start);
}

/**
 * Delivers TOPUPS messages by hand, as the main queue (`voucher-topups`) or the dead-letter queue
 * (`voucher-topups-dlq`) would; each ack pushes the order id to `acks`, each retry `retry:<order id>`.
 */
export async function deliverTopups(queue: string, orderIds: string[], channelId: string, acks: string[]) {
  const batch = {
    queue,
    messages: orderIds.map((order_id) => ({
      id: order_id,
      timestamp: new Date(),
      attempts: 1,
      body: { order_id, channel_id: channelId },
      ack: () => acks.push(order_id),
      retry: () => acks.push(`retry:${order_id}`),
    })),
    ackAll() {},
    retryAll() {},
  } as unknown as MessageBatch<unknown>;
  await handleTopups(batch, env);
}
