/** Small fixtures for route tests: talk to the real Worker through exports.default.fetch. */

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../src/index";

export const ADMIN = env.ADMIN_TOKEN;

export interface CallOptions {
  token?: string | null;
  headers?: Record<string, string>;
  raw?: string;
}

export async function call(method: string, path: string, body?: unknown, opts: CallOptions = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = opts.token === undefined ? ADMIN : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined = opts.raw;
  if (body !== undefined) {
    headers["content-type"] ??= "application/json";
    payload = JSON.stringify(body);
  }
  // The Worker's own fetch handler, called directly: exports.default.fetch slows down with every call
  // under vitest-pool-workers (workers-sdk#15446), which would make the concurrency tests measure the harness.
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://ve.test${path}`, { method, headers, body: payload }), env, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

let keySeq = 0;
export const idemKey = (label = "k") => `${label}-${Date.now()}-${++keySeq}-${Math.random().toString(36).slice(2)}`;

export async function createProduct(overrides: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/products", {
    name: "VIP 30 days",
    kind: "code",
    price: 1500,
    currency: "CNY",
    ...overrides,
  });
  if (res.status !== 201) throw new Error(`createProduct: ${res.status} ${res.text}`);
  return res.json as { id: string; [k: string]: any };
}

export async function generate(productId: string, count: number, rule: Record<string, unknown> = {}) {
  const res = await call("POST", `/v1/products/${productId}/batches`, { generate: { count, ...rule } });
  if (res.status !== 201 && res.status !== 202) throw new Error(`generate: ${res.status} ${res.text}`);
  return res.json;
}

export async function order(
  items: { product_id: string; quantity: number }[],
  extra: Record<string, unknown> = {},
  key = idemKey("ord"),
  token?: string,
) {
  return call("POST", "/v1/orders", { items, ...extra }, { headers: { "idempotency-key": key }, token });
}

export async function productWithCodes(count: number, overrides: Record<string, unknown> = {}) {
  const product = await createProduct(overrides);
  if (count > 0) await generate(product.id, count);
  return product;
}

/**
 * Polls until `check` passes and returns the last value read, so the caller's `expect` reports what it saw
 * (projections are written by the queue consumer, a moment later). The deadline only bounds a real failure:
 * on a loaded machine a queue round trip can take seconds, so keep it generous.
 */
export async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() - start > timeoutMs) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves once the clock has passed `at` (ms since the epoch). For behaviour the clock itself defines (a hold
 * or a checkout expiring), never as a guess at how long some work takes.
 */
export async function clockPast(at: number): Promise<void> {
  while (Date.now() <= at) await new Promise((r) => setTimeout(r, Math.max(1, at - Date.now() + 1)));
}

/**
 * Fixed-window limits (the local rate-limit binding, AbuseGuard.take) start each window on the clock (every
 * minute, every hour). A test that counts requests against one must send them inside a single window: when
 * fewer than `needMs` are left in the current one, this waits until the next one has begun.
 */
export async function insideOneWindow(windowMs: number, needMs: number): Promise<void> {
  const now = Date.now();
  const next = now - (now % windowMs) + windowMs;
  if (next - now < needMs) await clockPast(next);
}
