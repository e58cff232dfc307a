/**
 * A real HTTP receiver for the webhook tests, started by vitest.config.ts in Node before the
 * workers start. Each test uses its own hook key: `POST /_control/<key>` configures it
 * ({secret?, fail_next?, fail_status?, delay_ms?, redirect?, hold?, release?}), `GET /_control/<key>/requests`
 * lists what arrived (headers, body, whether the signature verified, whether it was answered yet),
 * `/hooks/<key>` receives. `hold: true` keeps every answer back until `release: true` (or 30 s), so a test can
 * tell "the sender gave up first" without timing anything.
 * Signatures are checked with webhook-verify.mjs, the very code shown in docs/webhooks.md.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TURNSTILE_TEST_SECRET } from "./turnstile-secret";
import { verifyVoucherSignature } from "./webhook-verify.mjs";
import { wechatFake } from "./wechatpay-fake";

interface Received {
  at: number;
  headers: Record<string, string>;
  body: unknown;
  raw: string;
  signature_valid: boolean | null;
  answered: number;
  /** Whether the answer has been sent (false while held or delayed). */
  replied: boolean;
}
interface Hook {
  secret: string | null;
  failNext: number;
  failStatus: number;
  delayMs: number;
  redirect: boolean;
  hold: boolean;
  held: (() => void)[];
  requests: Received[];
}

const hooks = new Map<string, Hook>();
const hook = (key: string) => {
  let h = hooks.get(key);
  if (!h) {
    h = {
      secret: null,
      failNext: 0,
      failStatus: 500,
      delayMs: 0,
      redirect: false,
      hold: false,
      held: [],
      requests: [],
    };
    hooks.set(key, h);
  }
  return h;
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  // Connection: close — no keep-alive socket the runtime could reuse after the server dropped it.
  res.writeHead(status, { "content-type": "application/json", connection: "close", ...headers });
  res.end(JSON.stringify(body));
}

const spentTokens = new Set<string>();

/**
 * A fake of Turnstile's siteverify with its real request (form-encoded secret, response, remoteip,
 * idempotency_key) and answer: tokens starting "pass" succeed once, a second use is `timeout-or-duplicate`,
 * anything else `invalid-input-response`, a wrong secret `invalid-input-secret`.
 */
function siteverify(res: ServerResponse, raw: Buffer) {
  const form = new URLSearchParams(raw.toString("utf8"));
  const token = form.get("response") ?? "";
  const fail = (code: string) => reply(res, 200, { success: false, "error-codes": [code], messages: [] });
  if (form.get("secret") !== TURNSTILE_TEST_SECRET) return fail("invalid-input-secret");
  if (!token) return fail("missing-input-response");
  if (!token.startsWith("pass")) return fail("invalid-input-response");
  if (spentTokens.has(token)) return fail("timeout-or-duplicate");
  spentTokens.add(token);
  return reply(res, 200, {
    success: true,
    challenge_ts: new Date().toISOString(),
    hostname: "localhost",
    "error-codes": [],
    action: "claim",
    cdata: "",
    metadata: { interactive: false },
  });
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://receiver");
  const raw = await readBody(req);
  const control = url.pathname.match(/^\/_control\/([\w-]{1,80})(\/requests)?$/);
  if (control) {
    const h = hook(control[1]);
    if (control[2]) return reply(res, 200, { requests: h.requests });
    const cfg = raw.length ? JSON.parse(raw.toString("utf8")) : {};
    if (typeof cfg.secret === "string") h.secret = cfg.secret;
    if (Number.isInteger(cfg.fail_next)) h.failNext = cfg.fail_next;
    if (Number.isInteger(cfg.fail_status)) h.failStatus = cfg.fail_status;
    if (Number.isInteger(cfg.delay_ms)) h.delayMs = cfg.delay_ms;
    if (typeof cfg.redirect === "boolean") h.redirect = cfg.redirect;
    if (typeof cfg.hold === "boolean") h.hold = cfg.hold;
    if (cfg.release === true) for (const release of h.held.splice(0)) release();
    return reply(res, 200, { ok: true });
  }
  if (url.pathname === "/turnstile/v0/siteverify" && req.method === "POST") return siteverify(res, raw);
  if (wechatFake(req.method ?? "GET", url.pathname, req.headers, raw.toString("utf8"), res)) return;
  const target = url.pathname.match(/^\/hooks\/([\w-]{1,80})$/);
  if (!target || req.method !== "POST") return reply(res, 404, { error: "unknown" });
  const h = hook(target[1]);
  const text = raw.toString("utf8");
  const header = req.headers["voucher-signature"];
  const signature_valid =
    h.secret === null ? null : verifyVoucherSignature(h.secret, raw, Array.isArray(header) ? header[0] : header);
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* recorded raw */
  }
  const headers = Object.fromEntries(
    Object.entries(req.headers)
      .filter(([k]) => k.startsWith("voucher-") || k === "user-agent" || k === "content-type")
      .map(([k, v]) => [k, String(v)]),
  );
  const answered = h.redirect ? 302 : h.failNext > 0 ? h.failStatus : 200;
  if (h.failNext > 0 && !h.redirect) h.failNext--;
  const entry: Received = { at: Date.now(), headers, body, raw: text, signature_valid, answered, replied: false };
  h.requests.push(entry);
  if (h.delayMs > 0) await new Promise((r) => setTimeout(r, h.delayMs));
  if (h.hold)
    await new Promise<void>((release) => {
      h.held.push(release);
      setTimeout(release, 30_000).unref();
    });
  entry.replied = true;
  if (answered === 302) return reply(res, 302, {}, { location: `/hooks/${target[1]}-redirected` });
  return reply(res, answered, { received: true });
}

export async function startWebhookReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, 400, { error: "bad request" });
    });
  });
  server.on("connection", (socket) => socket.unref()); // open sockets never keep vitest alive either
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref(); // never keeps vitest alive
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
