#!/usr/bin/env node
// A local fake of the upstream direct top-up (直充) provider, for development and tests.
// Speaks the protocol of docs/topup.md: every request must be signed by us
// (X-Provider-Timestamp ±300 s, X-Provider-Signature = hex HMAC-SHA256(secret, ts + "." + body)),
// every answer is signed the same way. Dedupes by out_trade_no (one charge per top-up).
//
// Test-friendly rules by the account's ending:
//   …0000  definite failure (status failed, error account_invalid)
//   …9999  503 (unsigned) the first `failTimes` submissions of an out_trade_no, then success
//   …8888  pending; becomes succeeded at the first status query (or by a notice to notify_url)
//   …7777  always 503 (never reaches the provider's books): for dead-letter tests
//   other  success at once
//
// Endpoints: POST /topups, GET /topups/{out_trade_no} (signed), and unsigned test helpers on
// loopback only: GET /_log (calls and records), POST /_control {fail_times?, notify_delay_ms?, reset?}.
//
// Use: `node scripts/fake-topup-provider.mjs [--port 8790]` (secret from TOPUP_PROVIDER_SECRET or .dev.vars),
// or `import { startFakeProvider } from "./scripts/fake-topup-provider.mjs"`.
import { createHmac, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const sign = (secret, ts, body) => createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex");

function verify(secret, req, body) {
  const ts = String(req.headers["x-provider-timestamp"] ?? "");
  const sig = String(req.headers["x-provider-signature"] ?? "");
  if (!/^\d{1,12}$/.test(ts) || Math.abs(Number(ts) - Math.floor(Date.now() / 1000)) > 300) return false;
  if (!/^[0-9a-f]{64}$/.test(sig)) return false;
  return timingSafeEqual(Buffer.from(sign(secret, ts, body)), Buffer.from(sig));
}

/** Starts the fake; `unref` lets the host process (e.g. vitest) exit without closing it. */
export async function startFakeProvider({
  secret,
  port = 0,
  host = "127.0.0.1",
  failTimes = 2,
  notifyDelayMs = 200,
  quiet = true,
  unref = false,
} = {}) {
  if (!secret || secret.length < 16) throw new Error("fake provider: a secret of at least 16 characters is needed");
  const state = { failTimes, notifyDelayMs, records: new Map(), busy: new Map(), calls: [], seq: 0 };

  const reply = (res, status, obj, signed = true) => {
    const body = JSON.stringify(obj);
    const ts = String(Math.floor(Date.now() / 1000));
    res.writeHead(status, {
      "content-type": "application/json",
      ...(signed ? { "x-provider-timestamp": ts, "x-provider-signature": sign(secret, ts, body) } : {}),
    });
    res.end(body);
  };
  const view = (r) => ({
    out_trade_no: r.out_trade_no,
    status: r.status,
    provider_ref: r.provider_ref,
    error: r.error,
  });

  // Like real providers, a notice is retried (up to 6 times, doubling the delay) until our endpoint answers 2xx.
  const notify = (r, attempt = 0) =>
    setTimeout(
      async () => {
        r.status = "succeeded";
        const body = JSON.stringify(view(r));
        const ts = String(Math.floor(Date.now() / 1000));
        try {
          const res = await fetch(r.notify_url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "x-provider-timestamp": ts,
              "x-provider-signature": sign(secret, ts, body),
            },
            body,
          });
          r.notices = (r.notices ?? 0) + 1;
          if (res.ok) {
            r.notified = true;
            return;
          }
        } catch {
          /* unreachable: retry */
        }
        if (attempt < 5) notify(r, attempt + 1);
      },
      state.notifyDelayMs * 2 ** attempt,
    ).unref?.();

  function submit(_req, res, body) {
    let input;
    try {
      input = JSON.parse(body);
    } catch {
      return reply(res, 400, { error: "malformed json" });
    }
    const { out_trade_no: no, account, sku } = input ?? {};
    if (
      typeof no !== "string" ||
      typeof account !== "string" ||
      typeof sku !== "string" ||
      !no ||
      !account ||
      no.length > 100 ||
      account.length > 64
    ) {
      return reply(res, 400, { error: "out_trade_no, sku and account are required" });
    }
    state.calls.push({ type: "submit", out_trade_no: no, account, at: Date.now() });
    const existing = state.records.get(no);
    if (existing) {
      existing.submissions++;
      return reply(res, 200, view(existing));
    } // dedupe: never charged twice
    if (account.endsWith("7777")) return reply(res, 503, { error: "upstream busy" }, false);
    if (account.endsWith("9999")) {
      const seen = state.busy.get(no) ?? 0;
      if (seen < state.failTimes) {
        state.busy.set(no, seen + 1);
        return reply(res, 503, { error: "upstream busy" }, false);
      }
    }
    const failed = account.endsWith("0000");
    const r = {
      out_trade_no: no,
      account,
      sku,
      amount: input.amount ?? null,
      currency: input.currency ?? null,
      notify_url: input.notify_url ?? null,
      status: failed ? "failed" : account.endsWith("8888") ? "pending" : "succeeded",
      provider_ref: `fp_${++state.seq}`,
      error: failed ? "account_invalid" : null,
      charges: failed ? 0 : 1,
      submissions: 1,
      queries: 0,
      notified: false,
    };
    state.records.set(no, r);
    if (r.status === "pending" && typeof r.notify_url === "string" && /^https?:\/\//.test(r.notify_url)) notify(r);
    return reply(res, 200, view(r));
  }

  function query(res, no) {
    state.calls.push({ type: "query", out_trade_no: no, at: Date.now() });
    const r = state.records.get(no);
    if (!r) return reply(res, 404, { out_trade_no: no, status: "not_found", provider_ref: null, error: null });
    r.queries++;
    if (r.status === "pending") r.status = "succeeded";
    return reply(res, 200, view(r));
  }

  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= 65_536) chunks.push(c);
    });
    req.on("end", () => {
      if (size > 65_536) return reply(res, 413, { error: "too large" });
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://x");
      if (!quiet) console.log(`fake-topup-provider: ${req.method} ${url.pathname}`);
      // Test helpers: unsigned, so only reachable on loopback (the server binds 127.0.0.1 by default).
      if (url.pathname === "/_log" && req.method === "GET") {
        return reply(
          res,
          200,
          { calls: state.calls, records: [...state.records.values()], fail_times: state.failTimes },
          false,
        );
      }
      if (url.pathname === "/_control" && req.method === "POST") {
        let c = {};
        try {
          c = JSON.parse(body || "{}");
        } catch {
          return reply(res, 400, { error: "malformed json" }, false);
        }
        if (c.reset) {
          state.records.clear();
          state.busy.clear();
          state.calls.length = 0;
        }
        if (Number.isInteger(c.fail_times) && c.fail_times >= 0) state.failTimes = c.fail_times;
        if (Number.isInteger(c.notify_delay_ms) && c.notify_delay_ms >= 0) state.notifyDelayMs = c.notify_delay_ms;
        return reply(res, 200, { ok: true, fail_times: state.failTimes, notify_delay_ms: state.notifyDelayMs }, false);
      }
      if (!verify(secret, req, body)) return reply(res, 401, { error: "bad signature or stale timestamp" });
      if (url.pathname === "/topups" && req.method === "POST") return submit(req, res, body);
      const m = /^\/topups\/([^/]{1,100})$/.exec(url.pathname);
      if (m && req.method === "GET") return query(res, decodeURIComponent(m[1]));
      return reply(res, 404, { error: "no such endpoint" });
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  if (unref) server.unref();
  const address = server.address();
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    state,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// CLI
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const portArg = process.argv.indexOf("--port");
  const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.TOPUP_FAKE_PORT ?? 8790));
  const fromFile = existsSync(".dev.vars")
    ? readFileSync(".dev.vars", "utf8").match(/^TOPUP_PROVIDER_SECRET=(.*)$/m)?.[1]
    : undefined;
  const secret = process.env.TOPUP_PROVIDER_SECRET ?? fromFile;
  if (!secret) {
    console.error("fake-topup-provider: set TOPUP_PROVIDER_SECRET or run `npm run setup` first");
    process.exit(1);
  }
  const p = await startFakeProvider({ secret, port, quiet: false });
  console.log(`fake-topup-provider listening on ${p.url}`);
  const stop = () => p.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
