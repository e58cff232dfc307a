#!/usr/bin/env node
// `npm run bench`: fresh local runtime, then in one run
//   bulk generation (2 x 100k codes as background jobs: codes/s, workerd peak RSS and RSS after each),
//   baseline GET /healthz/do, single-code issuance POST /v1/orders, first redemptions POST /v1/redemptions,
// at 50 connections, BENCH_ROUNDS rounds of BENCH_SECONDS per scenario (medians reported).
//   then consumer checkout POST /v1/checkout and sandbox gateway notices (BENCH_PAY_SECONDS per round),
//   ledger lag (BENCH_LEDGER_ORDERS paid checkouts until GET /v1/reconciliation is ok) and webhook latency
//   (BENCH_WEBHOOK_ORDERS orders at 10/s to a local receiver).
// Parts: `npm run bench -- checkout` (or bulk, core, checkout, ledger, webhooks, console, campaigns; several allowed) runs only
// those, plus the baseline. Default: all.
// Prints a table and writes bench/results/latest.json. Env: BENCH_SECONDS (10), BENCH_ROUNDS (3),
// BENCH_CONNECTIONS (50), BENCH_BULK_COUNT (100000), BENCH_BULK_BATCHES (2), BENCH_PAY_SECONDS (5),
// BENCH_LEDGER_ORDERS (400), BENCH_WEBHOOK_ORDERS (100), BENCH_KEEP=1 keeps the temp state dir.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { buildConsole, consumerSizes } from "../scripts/build-console.mjs";
import { client } from "./api.mjs";
import { bulkGenerate } from "./bulk.mjs";
import { consoleBench, loadHistory, printConsole } from "./console.mjs";
import { load } from "./load.mjs";
import { checkoutBench, ledgerLag, NOTIFY_PATH, webhookLatency } from "./payments.mjs";
import { cpuMeter, workerdProcesses } from "./proc.mjs";
import { printTable, summarise, writeJson } from "./report.mjs";
import { freePort, startRuntime } from "./runtime.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const num = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
};
const SECONDS = num("BENCH_SECONDS", 10);
const ROUNDS = Math.round(num("BENCH_ROUNDS", 3));
const CONNECTIONS = Math.round(num("BENCH_CONNECTIONS", 50));
const BULK_COUNT = Math.round(num("BENCH_BULK_COUNT", 100_000));
const BULK_BATCHES = Math.round(num("BENCH_BULK_BATCHES", 2));
const PAY_SECONDS = num("BENCH_PAY_SECONDS", 5);
const LEDGER_ORDERS = Math.round(num("BENCH_LEDGER_ORDERS", 400));
const WEBHOOK_ORDERS = Math.round(num("BENCH_WEBHOOK_ORDERS", 100));
const PARTS = ["bulk", "core", "checkout", "ledger", "webhooks", "console", "campaigns"];
const args = process.argv.slice(2);
for (const a of args) if (!PARTS.includes(a)) throw new Error(`unknown part ${a}; parts: ${PARTS.join(", ")}`);
const part = (name) => args.length === 0 || args.includes(name);
const WARMUP_SECONDS = 2;
const BLOCK_SETTLE_S = 20;
const ROUND_SETTLE_S = 3;
const DRAIN_CAP_S = 8;
const IDLE_WINDOWS = 3;
const log = (...a) => console.error(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let runtime = null;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  if (runtime) {
    if (runtime.pgid !== null) log(`bench: stopping process group ${runtime.pgid}`);
    await runtime.stop();
  }
  process.exit(code);
}
process.on("SIGINT", () => shutdown(130));
process.on("SIGTERM", () => shutdown(143));
process.on("exit", () => runtime?.killNow());

async function main() {
  const started = Date.now();
  const cores = cpus().length;
  const load1 = loadavg()[0];
  if (load1 > 0.5)
    log(
      `bench: note: load average is ${load1.toFixed(2)} before starting; other work on this machine skews the figures (see the CPU columns)`,
    );
  // The runtime serves a copy of the working tree taken now; note which commit it was and whether it differed.
  let commit = null;
  let dirty = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    dirty =
      execFileSync("git", ["status", "--porcelain", "--", "src", "public", "migrations", "wrangler.toml"], {
        cwd: ROOT,
        encoding: "utf8",
      }).trim() !== "";
  } catch {
    /* not a repo */
  }
  // The runtime serves a copy of public/ taken at start: the console is built first.
  if (part("console") || part("campaigns")) await buildConsole({ quiet: true });
  runtime = await startRuntime({
    log,
    keep: process.env.BENCH_KEEP === "1",
    // The console part reads 1,000,000 orders of roll-ups, written into D1 before the Worker starts.
    beforeStart: part("console") ? loadHistory(log) : undefined,
    onHandle: (h) => {
      runtime = h;
    },
  });
  const { base, adminToken, pgid, sandboxSecret } = runtime;
  const api = client(base, adminToken);
  const runId = randomBytes(4).toString("hex");

  // ---- Bulk generation first, on the fresh state (nothing else running).
  const port = new URL(base).port;
  let bulk = null;
  if (part("bulk")) {
    log(`bench: bulk generate ${BULK_BATCHES} x ${BULK_COUNT} codes`);
    bulk = await bulkGenerate({ api, pgid, port, cores, count: BULK_COUNT, batches: BULK_BATCHES, log });
  }

  // ---- Inputs for the load scenarios.
  const issueProduct = await api.createProduct("Bench issue");
  const redeemProduct = await api.createProduct("Bench redeem");
  // Campaign claims: one campaign with a budget no run reaches, each request a new customer and key.
  const claimProduct = part("campaigns") ? await api.createProduct("Bench claim") : null;
  const campaignId = claimProduct
    ? (
        await api.call("POST", "/v1/campaigns", {
          name: "Bench trial",
          product_id: claimProduct,
          starts_at: new Date(Date.now() - 60_000).toISOString(),
          ends_at: new Date(Date.now() + 86_400_000).toISOString(),
          max_claims: 10_000_000,
        })
      ).json.id
    : null;
  const stockLeft = { [issueProduct]: 0, [redeemProduct]: 0, ...(claimProduct ? { [claimProduct]: 0 } : {}) };
  async function ensureStock(productId, want) {
    while (stockLeft[productId] < want) {
      const n = Math.min(10_000, Math.max(1000, want - stockLeft[productId]));
      await api.generate(productId, n);
      stockLeft[productId] += n;
    }
  }
  let keyNo = 0;
  const orderBody = JSON.stringify({ items: [{ product_id: issueProduct, quantity: 1 }] });
  const nextOrder = () => {
    if (stockLeft[issueProduct] <= 0) return null;
    stockLeft[issueProduct]--; // Counted when autocannon builds the request, so never more than the stock.
    return { headers: { "idempotency-key": `bench-${runId}-${++keyNo}` }, body: orderBody };
  };
  const nextClaim = () => {
    if (stockLeft[claimProduct] <= 0) return null;
    stockLeft[claimProduct]--;
    const n = ++keyNo;
    return {
      headers: { "idempotency-key": `bench-claim-${runId}-${n}` },
      body: JSON.stringify({ customer_ref: `bench-${runId}-${n}` }),
    };
  };
  const codes = [];
  let codePos = 0;
  const nextCode = () => (codePos < codes.length ? { body: JSON.stringify({ code: codes[codePos++] }) } : null);
  // Expected req/s, to size stock and codes (x1.5); the warm-up replaces the first guess, rounds only raise it.
  const estimate = { issuance: 300, redemption: 300, checkout: 300, notice: 300, claims: 300 };
  const need = (key, seconds, rounds) => Math.ceil((estimate[key] * seconds * 1.5 + CONNECTIONS * 2 + 200) * rounds);
  // Each prepare makes sure enough input is ready and says how many responses it can feed (autocannon
  // builds each connection's next request ahead, so keep 2 x connections in reserve).
  const co = part("checkout") || part("ledger") ? await checkoutBench({ api, base, runId, sandboxSecret }) : null;
  const scenarios = [
    {
      key: "baseline",
      label: "GET /healthz/do (baseline)",
      method: "GET",
      path: "/healthz/do",
      prepare: async () => ({}),
    },
    {
      key: "issuance",
      label: "POST /v1/orders (1 code)",
      method: "POST",
      path: "/v1/orders",
      prepare: async (seconds, rounds = 1) => {
        await ensureStock(issueProduct, need("issuance", seconds, rounds));
        return { next: nextOrder, max: stockLeft[issueProduct] - 2 * CONNECTIONS };
      },
    },
    {
      key: "redemption",
      label: "POST /v1/redemptions",
      method: "POST",
      path: "/v1/redemptions",
      prepare: async (seconds, rounds = 1) => {
        const missing = need("redemption", seconds, rounds) - (codes.length - codePos);
        if (missing > 0) {
          await ensureStock(redeemProduct, missing);
          for (const c of await api.issueCodes(redeemProduct, missing, `bench-${runId}-prep-${++keyNo}`)) codes.push(c);
          stockLeft[redeemProduct] -= missing;
        }
        return { next: nextCode, max: codes.length - codePos - 2 * CONNECTIONS };
      },
    },
    {
      // Publishable key, unique Idempotency-Key and client address per request; each answer's order is kept for the notices.
      key: "checkout",
      label: "POST /v1/checkout (sandbox, 1 code)",
      method: "POST",
      path: "/v1/checkout",
      seconds: PAY_SECONDS,
      prepare: async (seconds, rounds = 1) => {
        await co.ensureStock(need("checkout", seconds, rounds));
        return { next: co.nextCheckout, max: co.stockLeft() - 2 * CONNECTIONS, onBody: co.keep };
      },
    },
    {
      // A signed payment.succeeded notice per request, each for a different held checkout (from the checkout block).
      key: "notice",
      label: "POST /v1/public/payments/sandbox/notify",
      method: "POST",
      path: NOTIFY_PATH,
      seconds: PAY_SECONDS,
      prepare: async (seconds, rounds = 1) => {
        // Sized tighter than the others (1.1x, not 1.5x): held checkouts are made one by one outside the
        // measurement, which is slow, and what is left over is paid by the ledger step anyway.
        const missing = Math.ceil((estimate.notice * seconds * 1.1 + CONNECTIONS * 2) * rounds) - co.heldLeft();
        if (missing > 0) await co.makeHeld(missing);
        return { next: co.nextNotice, max: co.heldLeft() - 2 * CONNECTIONS };
      },
    },
    {
      key: "claims",
      label: "POST /v1/campaigns/{id}/claims",
      method: "POST",
      path: `/v1/campaigns/${campaignId}/claims`,
      prepare: async (seconds, rounds = 1) => {
        await ensureStock(claimProduct, need("claims", seconds, rounds));
        return { next: nextClaim, max: stockLeft[claimProduct] - 2 * CONNECTIONS };
      },
    },
  ].filter(
    (s) =>
      s.key === "baseline" ||
      (part("campaigns") && s.key === "claims") ||
      (part("core") && (s.key === "issuance" || s.key === "redemption")) ||
      (part("checkout") && (s.key === "checkout" || s.key === "notice")),
  );
  /**
   * Waits until the runtime is idle, at most `capS` seconds. Issuance and redemption leave work behind
   * them (outbox alarms, the events queue and its D1 projection). Idle = under 0.1 core in each of
   * IDLE_WINDOWS consecutive 0.5 s windows: the local queue hands out a batch at most every second
   * (max_batch_timeout = 1), so one quiet half second does not yet mean the backlog is gone.
   */
  const settle = async (capS) => {
    const t = performance.now();
    let quiet = 0;
    for (;;) {
      const meter = cpuMeter(pgid, cores);
      await sleep(500);
      quiet = meter().runtime_cores < 0.1 ? quiet + 1 : 0;
      const waited = (performance.now() - t) / 1000;
      if (quiet >= IDLE_WINDOWS || waited >= capS)
        return { seconds: +waited.toFixed(1), timedOut: quiet < IDLE_WINDOWS };
    }
  };
  const run = async (s, seconds, settleCapS) => {
    const { next, max, onBody } = await s.prepare(seconds);
    if (max !== undefined && max < CONNECTIONS) throw new Error(`${s.key}: not enough prepared input (${max})`);
    const settled = settleCapS > 0 ? await settle(settleCapS) : { seconds: 0, timedOut: false };
    const meter = cpuMeter(pgid, cores);
    const r = await load({
      base,
      token: adminToken,
      method: s.method,
      path: s.path,
      seconds,
      connections: CONNECTIONS,
      next,
      maxRequests: max,
      onBody,
    });
    r.cpu = meter();
    // Runtime CPU per completed request: what each request costs the local runtime, whatever the neighbours do.
    r.cpu_ms_per_request = r.total_requests ? +((r.cpu.runtime_cores * 1000) / r.requests_per_s).toFixed(2) : null;
    r.idle_wait_before_s = settled.seconds;
    r.started_busy = settled.timedOut;
    if (s.key !== "baseline") estimate[s.key] = Math.max(estimate[s.key], r.requests_per_s);
    if (r.ran_out_of_input || r.ended_early)
      log(`bench: WARNING ${s.key} used up its prepared input after ${r.seconds} s; its figures cover a shorter run`);
    return r;
  };

  // One block per scenario: a short warm-up (also sizes the inputs), inputs for every round, a wait until the
  // runtime is idle, then the rounds back to back (with at most ROUND_SETTLE_S of waiting between them).
  const warmup = {};
  for (const s of scenarios) {
    warmup[s.key] = await run(s, WARMUP_SECONDS, 0);
    if (s.key !== "baseline") estimate[s.key] = Math.max(100, warmup[s.key].requests_per_s);
    const tPrep = performance.now();
    const seconds = s.seconds ?? SECONDS;
    await s.prepare(seconds, ROUNDS);
    if (s.key !== "baseline")
      log(
        `bench: ${s.key}: warm-up ${warmup[s.key].requests_per_s.toFixed(0)} req/s; inputs for ${ROUNDS} round(s) ready in ${((performance.now() - tPrep) / 1000).toFixed(1)} s`,
      );
    s.rounds = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const r = await run(s, seconds, round === 1 ? BLOCK_SETTLE_S : ROUND_SETTLE_S);
      s.rounds.push(r);
      log(
        `bench: ${s.key} round ${round}/${ROUNDS}: ${r.requests_per_s.toFixed(0)} req/s, p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms, non-2xx ${r.non_2xx}, errors ${r.errors + r.timeouts}; CPU cores runtime ${r.cpu.runtime_cores}, load generator ${r.cpu.load_generator_cores}, others ${r.cpu.others_cores}; started after ${r.idle_wait_before_s} s${r.started_busy ? " with the runtime still busy" : " on an idle runtime"}`,
      );
      for (const [status, bodies] of Object.entries(r.error_samples))
        log(`bench:   ${status} x${r.statuses[status]}: ${bodies[0]}`);
    }
    s.rss_after = workerdProcesses(pgid, port);
    log(
      `bench: workerd RSS after the ${s.key} block: ${s.rss_after.map((p) => `${p.role} ${p.rss_mib.toFixed(0)} MiB`).join(", ")}`,
    );
  }
  // How long the work left behind by the last round keeps the runtime busy (capped).
  const drain = await settle(DRAIN_CAP_S);
  log(
    `bench: after the last round the runtime was busy for ${drain.seconds} s more${drain.timedOut ? " (still busy; stopped waiting)" : ""}`,
  );

  // ---- Ledger lag: pay a fixed number of held checkouts on an idle runtime, poll reconciliation until ok.
  let ledger = null;
  if (part("ledger")) {
    const tPrep = performance.now();
    const made = Math.max(0, LEDGER_ORDERS - co.heldLeft());
    if (made > 0) await co.makeHeld(made);
    log(
      `bench: ledger: ${co.heldLeft()} held checkouts available (${made} made now, ${((performance.now() - tPrep) / 1000).toFixed(1)} s)`,
    );
    const idle = await settle(BLOCK_SETTLE_S);
    const meter = cpuMeter(pgid, cores);
    ledger = await ledgerLag({ api, base, co, sandboxSecret, count: LEDGER_ORDERS, concurrency: CONNECTIONS, log });
    ledger.cpu = meter();
    ledger.idle_wait_before_s = idle.seconds;
    ledger.started_busy = idle.timedOut;
  }
  // ---- Webhook latency: order placement -> receipt at a local receiver, at a light, paced load.
  let webhooks = null;
  if (part("webhooks")) {
    const idle = await settle(BLOCK_SETTLE_S);
    const meter = cpuMeter(pgid, cores);
    webhooks = await webhookLatency({ api, port: await freePort(), count: WEBHOOK_ORDERS, ratePerS: 10, runId, log });
    webhooks.cpu = meter();
    webhooks.idle_wait_before_s = idle.seconds;
    webhooks.started_busy = idle.timedOut;
  }
  let consoleResults = null;
  if (part("console")) {
    await settle(BLOCK_SETTLE_S);
    consoleResults = await consoleBench({ base, adminToken, log });
  }
  for (const s of scenarios) s.summary = summarise(s.rounds);
  const baseSummary = scenarios[0].summary;

  console.log("");
  console.log(
    `Voucher Edge bench: ${CONNECTIONS} connections, ${ROUNDS} round(s) x ${SECONDS} s per scenario (checkout and notices: ${PAY_SECONDS} s) (medians), node ${process.version}, ${cpus().length} CPU(s)`,
  );
  console.log("");
  printTable(console.log, scenarios, bulk, { ledger, webhooks });
  if (consoleResults) printConsole(console.log, consoleResults);
  if (part("campaigns") || part("console"))
    for (const { file, gzip } of consumerSizes())
      console.log(
        `  consumer page ${file.padEnd(28)} ${(gzip / 1024).toFixed(1)} KB gzipped (goal ≤ ${file === "widget.js" ? 5 : 30} KB)`,
      );

  const wranglerVersion = JSON.parse(
    execFileSync("node", ["-p", "JSON.stringify(require('wrangler/package.json').version)"], {
      cwd: ROOT,
      encoding: "utf8",
    }),
  );
  const results = {
    date: new Date().toISOString(),
    commit,
    worktree_dirty: dirty,
    machine: {
      load_average_at_start: +load1.toFixed(2),
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? null,
      memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
      platform: process.platform,
    },
    parts: args.length ? args : PARTS,
    settings: {
      connections: CONNECTIONS,
      seconds: SECONDS,
      pay_seconds: PAY_SECONDS,
      ledger_orders: LEDGER_ORDERS,
      webhook_orders: WEBHOOK_ORDERS,
      rounds: ROUNDS,
      warmup_seconds: WARMUP_SECONDS,
      bulk_count: BULK_COUNT,
      bulk_batches: BULK_BATCHES,
      block_idle_wait_cap_s: BLOCK_SETTLE_S,
      round_idle_wait_cap_s: ROUND_SETTLE_S,
      wrangler: wranglerVersion,
      latency_note: "autocannon latency percentiles cover 2xx responses",
    },
    scenarios: Object.fromEntries(
      scenarios.map((s) => [
        s.key,
        {
          label: s.label,
          method: s.method,
          path: s.path,
          median: {
            ...s.summary,
            requests_per_s_vs_baseline: s.summary.requests_per_s / baseSummary.requests_per_s,
            p50_vs_baseline: s.summary.p50_ms / baseSummary.p50_ms,
          },
          rounds: s.rounds,
          warmup: warmup[s.key],
          workerd_rss_after_block: s.rss_after,
        },
      ]),
    ),
    bulk,
    ledger,
    webhooks,
    console: consoleResults,
    busy_after_last_round_s: drain.seconds,
    still_busy_after_last_round: drain.timedOut,
    wall_seconds: (Date.now() - started) / 1000,
  };
  const file = join(ROOT, "bench", "results", "latest.json");
  writeJson(file, results);
  console.log(`\nresults: ${file} (wall time ${results.wall_seconds.toFixed(0)} s)`);
}

main().then(
  () => shutdown(0),
  async (err) => {
    if (!stopping) log(`bench: FAILED: ${err?.stack ?? err}`);
    await shutdown(1);
  },
);
