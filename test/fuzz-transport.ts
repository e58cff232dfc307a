/**
 * Fuzzing fixtures: raw requests to the real Worker (exact bytes, headers and methods,
 * nothing added behind our back) and fast-check arbitraries for hostile input.
 *
 * Two ways in, both on the real local runtime with real D1, DOs and queues:
 * - "exports": `exports.default.fetch`, the request crosses the runtime's loopback like a
 *   real one (Content-Length computed on the wire). Under vitest-pool-workers every such
 *   call gets slower than the one before (≈ +0.3 ms per prior call in one workerd
 *   instance; cloudflare/workers-sdk#15446), so a thousand fuzz requests would take minutes.
 * - "direct" (the default here): the Worker's own `fetch(request, env, ctx)` handler with
 *   an execution context whose waitUntil work is awaited: same app, same bindings, flat cost.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../src/index";

export const ADMIN: string = env.ADMIN_TOKEN;

export interface RawRequest {
  method: string;
  /** Path and query, appended to the origin as typed (not re-encoded beyond what URL parsing does). */
  path: string;
  headers: Record<string, string | undefined>;
  /** Sent as bytes so no Content-Type is added for us; a stream has no Content-Length. */
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
}

export interface RawResponse {
  status: number;
  text: string;
  json: any;
  headers: Headers;
}

const encoder = new TextEncoder();

export type Transport = "direct" | "exports";

export async function send(req: RawRequest, via: Transport = "direct"): Promise<RawResponse> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, v);
  const body = typeof req.body === "string" ? encoder.encode(req.body) : req.body;
  const request = new Request(`http://ve.test${req.path}`, { method: req.method, headers, body });
  let res: Response;
  if (via === "exports") {
    res = await exports.default.fetch(request);
  } else {
    const ctx = createExecutionContext();
    res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
    await waitOnExecutionContext(ctx);
  }
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

export const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** Why a response breaks the contract (never 5xx; errors are {"error": {"code", "message"}}), or null. */
export function contractViolation(res: RawResponse): string | null {
  if (res.status >= 500) return `status ${res.status} (5xx)`;
  if (res.status < 400) return null;
  const ct = res.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(ct)) return `error with content-type ${JSON.stringify(ct)}`;
  const err = res.json?.error;
  if (!res.json || typeof res.json !== "object" || Array.isArray(res.json) || !err || typeof err !== "object")
    return 'error body is not {"error": {...}}';
  if (typeof err.code !== "string" || !SNAKE_CASE.test(err.code))
    return `error.code ${JSON.stringify(err.code)} is not a snake_case string`;
  if (typeof err.message !== "string") return "error.message is not a string";
  return null;
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export function describeExchange(req: RawRequest, res: RawResponse): string {
  const body =
    req.body === undefined
      ? "(none)"
      : typeof req.body === "string"
        ? JSON.stringify(clip(req.body))
        : "(bytes/stream)";
  return [
    `${req.method} ${clip(req.path, 300)}`,
    `headers: ${JSON.stringify(
      Object.fromEntries(
        Object.entries(req.headers)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, k === "authorization" ? clip(v!, 40) : v]),
      ),
    )}`,
    `body: ${body}`,
    `→ ${res.status} ${res.headers.get("content-type") ?? ""} ${clip(res.text)}`,
  ].join("\n");
}

/** Sends and throws a readable error when the contract is broken, so fast-check shrinks on it. */
export async function sendChecked(
  req: RawRequest,
  stats?: Map<number, number>,
  via: Transport = "direct",
): Promise<RawResponse> {
  const res = await send(req, via);
  stats?.set(res.status, (stats.get(res.status) ?? 0) + 1);
  const problem = contractViolation(res);
  if (problem) throw new Error(`contract broken: ${problem}\n${describeExchange(req, res)}`);
  return res;
}
