#!/usr/bin/env node
// `npm run bench`: fresh local runtime, then in one run
//   bulk generation (100k codes as a background job, codes/s and workerd peak RSS),
//   baseline GET /healthz/do, single-code issuance POST /v1/orders, first redemptions POST /v1/redemptions,
// at 50 connections for BENCH_SECONDS each, over BENCH_ROUNDS interleaved rounds (medians reported).
// Prints a table and writes bench/results/latest.json. Env: BENCH_SECONDS (10), BENCH_ROUNDS (3),
// BENCH_CONNECTIONS (50), BENCH_BULK_COUNT (100000), BENCH_KEEP=1 keeps the temp state dir.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { client } from "./api.mjs";
import { load } from "./load.mjs";
import { printTable, summarise, writeJson } from "./report.mjs";
import { cpuMeter, rssSampler, workerdRss } from "./proc.mjs";
import { startRuntime } from "./runtime.mjs";

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
const WARMUP_SECONDS = 2;
const SETTLE_MAX_S = 10;
const log = (...a) => console.error(...a);
const mib = (kib) => kib / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let runtime = null;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  if (runtime) {
    log(`bench: stopping process group ${runtime.pgid}`);
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
  if (load1 > 0.5) log(`bench: note: load average is ${load1.toFixed(2)} before starting; other work on this machine skews the figures (see the CPU columns)`);
  runtime = await startRuntime({ log, keep: process.env.BENCH_KEEP === "1" });
  const { base, adminToken, pgid } = runtime;
  const api = client(base, adminToken);
  const runId = randomBytes(4).toString("hex");

  // ---- Bulk generation first, on the fresh state (nothing else running).
  log(`bench: bulk generate ${BULK_COUNT} codes`);
  const bulkProduct = await api.createProduct("Bench bulk");
  await sleep(500);
  const before = workerdRss(pgid);
  const sampler = rssSampler(pgid, 50);
  const bulkCpu = cpuMeter(pgid, cores);
  const timeline = [];
  const t0 = performance.now();
  const gen = await api.generate(bulkProduct, BULK_COUNT, { pollMs: 100, timeoutMs: 150_000, onPoll: (bt) => timeline.push([+((performance.now() - t0) / 1000).toFixed(2), bt.done]) });
  const cpuBulk = bulkCpu();
  const peak = sampler.stop();
  await sleep(500);
  const after = workerdRss(pgid);
  const b = gen.batch;
  const bulk = {
    count: BULK_COUNT, accepted_status: gen.accepted, status: b.status, done: b.done, timed_out: gen.timedOut,
    seconds: gen.seconds, codes_per_s: (gen.timedOut ? b.done : BULK_COUNT) / gen.seconds,
    server_seconds: b.completed_at ? (Date.parse(b.completed_at) - Date.parse(b.created_at)) / 1000 : null,
    rss_before_mib: mib(before.totalKiB), rss_peak_total_mib: mib(peak.totalKiB), rss_peak_max_mib: mib(peak.maxKiB),
    rss_after_mib: mib(after.totalKiB), rss_processes: peak.processes, rss_samples: peak.samples,
    cpu: cpuBulk,
    // [seconds since the request, codes done] as seen by polling GET /v1/batches/{id}; shows the job's chunk cadence.
    progress: timeline.filter((p, i) => i === 0 || p[1] !== timeline[i - 1][1] || i === timeline.length - 1),
  };
  log(`bench: bulk ${bulk.timed_out ? "timed out" : "completed"} in ${bulk.seconds.toFixed(2)} s (${bulk.codes_per_s.toFixed(0)} codes/s), peak workerd RSS ${bulk.rss_peak_total_mib.toFixed(0)} MiB`);

  // ---- Inputs for the load scenarios.
  const issueProduct = await api.createProduct("Bench issue");
  const redeemProduct = await api.createProduct("Bench redeem");
  const stockLeft = { [issueProduct]: 0, [redeemProduct]: 0 };
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
    stockLeft[issueProduct]--; // Counted at send time; a request cut off at the end may leave one more.
    return { headers: { "idempotency-key": `bench-${runId}-${++keyNo}` }, body: orderBody };
  };
  const codes = [];
  let codePos = 0;
  const nextCode = () => (codePos < codes.length ? { body: JSON.stringify({ code: codes[codePos++] }) } : null);
  // Expected req/s, to size stock and codes (x1.5); the warm-up replaces the first guess, rounds only raise it.
  const estimate = { issuance: 300, redemption: 300 };
  const need = (key, seconds, rounds) => Math.ceil((estimate[key] * seconds * 1.5 + CONNECTIONS * 2 + 200) * rounds);
  // Each prepare makes sure enough input is ready and says how many responses it can feed (autocannon
  // builds each connection's next request ahead, so keep 2 x connections in reserve).
  const scenarios = [
    { key: "baseline", label: "GET /healthz/do (baseline)", method: "GET", path: "/healthz/do", prepare: async () => ({}) },
    {
      key: "issuance", label: "POST /v1/orders (1 code)", method: "POST", path: "/v1/orders",
      prepare: async (seconds, rounds = 1) => {
        await ensureStock(issueProduct, need("issuance", seconds, rounds));
        return { next: nextOrder, max: stockLeft[issueProduct] - 2 * CONNECTIONS };
      },
    },
    {
      key: "redemption", label: "POST /v1/redemptions", method: "POST", path: "/v1/redemptions",
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
  ];
  /**
   * Waits until the runtime is idle (under 0.1 core for 0.5 s, at most SETTLE_MAX_S): work a scenario
   * leaves behind (outbox alarms, the events queue and its D1 projection) must not be billed to the next one.
   */
  const settle = async () => {
    const t = performance.now();
    for (;;) {
      const meter = cpuMeter(pgid, cores);
      await sleep(500);
      const used = meter().runtime_cores;
      const waited = (performance.now() - t) / 1000;
      if (used < 0.1 || waited > SETTLE_MAX_S) return { seconds: +waited.toFixed(1), timedOut: used >= 0.1 };
    }
  };
  const run = async (s, seconds) => {
    const { next, max } = await s.prepare(seconds);
    if (max !== undefined && max < CONNECTIONS) throw new Error(`${s.key}: not enough prepared input (${max})`);
    const settledAfter = await settle();
    const meter = cpuMeter(pgid, cores);
    const r = await load({ base, token: adminToken, method: s.method, path: s.path, seconds, connections: CONNECTIONS, next, maxRequests: max });
    r.cpu = meter();
    r.settle_seconds_before = settledAfter.seconds;
    r.settle_timed_out = settledAfter.timedOut;
    if (s.key !== "baseline") estimate[s.key] = Math.max(estimate[s.key], r.requests_per_s);
    if (r.ran_out_of_input || r.ended_early) log(`bench: WARNING ${s.key} used up its prepared input after ${r.seconds} s; its figures cover a shorter run`);
    return r;
  };

  log(`bench: warm-up ${WARMUP_SECONDS} s per scenario`);
  const warmup = {};
  for (const s of scenarios) {
    warmup[s.key] = await run(s, WARMUP_SECONDS);
    if (s.key !== "baseline") estimate[s.key] = Math.max(50, warmup[s.key].requests_per_s);
  }
  // Inputs for every round at once, so the rounds themselves only wait for leftovers of the previous scenario.
  const tPrep = performance.now();
  for (const s of scenarios) await s.prepare(SECONDS, ROUNDS);
  log(`bench: prepared ${stockLeft[issueProduct]} codes of stock and ${codes.length - codePos} issued codes in ${((performance.now() - tPrep) / 1000).toFixed(1)} s`);
  for (const s of scenarios) s.rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of scenarios) {
      const r = await run(s, SECONDS);
      s.rounds.push(r);
      log(`bench: round ${round}/${ROUNDS} ${s.key}: ${r.requests_per_s.toFixed(0)} req/s, p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms, non-2xx ${r.non_2xx}, errors ${r.errors + r.timeouts}; CPU cores runtime ${r.cpu.runtime_cores}, load generator ${r.cpu.load_generator_cores}, others ${r.cpu.others_cores}; waited ${r.settle_seconds_before} s for idle${r.settle_timed_out ? " (gave up: still busy)" : ""}`);
      for (const [status, bodies] of Object.entries(r.error_samples)) log(`bench:   ${status} x${r.statuses[status]}: ${bodies[0]}`);
    }
  }
  for (const s of scenarios) s.summary = summarise(s.rounds);
  const baseSummary = scenarios[0].summary;
  const rssEnd = workerdRss(pgid);

  console.log("");
  console.log(`Voucher Edge bench: ${CONNECTIONS} connections, ${ROUNDS} round(s) x ${SECONDS} s per scenario (medians), node ${process.version}, ${cpus().length} CPU(s)`);
  console.log("");
  printTable(console.log, scenarios, bulk);

  const wranglerVersion = JSON.parse(execFileSync("node", ["-p", "JSON.stringify(require('wrangler/package.json').version)"], { cwd: ROOT, encoding: "utf8" }));
  let commit = null;
  try { commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim(); } catch { /* not a repo */ }
  const results = {
    date: new Date().toISOString(),
    commit,
    machine: { load_average_at_start: +load1.toFixed(2), cpus: cpus().length, cpu_model: cpus()[0]?.model ?? null, memory_gib: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, platform: process.platform },
    settings: { connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, warmup_seconds: WARMUP_SECONDS, bulk_count: BULK_COUNT, wrangler: wranglerVersion, latency_note: "autocannon latency percentiles cover 2xx responses" },
    scenarios: Object.fromEntries(scenarios.map((s) => [s.key, {
      label: s.label, method: s.method, path: s.path,
      median: { ...s.summary, requests_per_s_vs_baseline: s.summary.requests_per_s / baseSummary.requests_per_s, p50_vs_baseline: s.summary.p50_ms / baseSummary.p50_ms },
      rounds: s.rounds, warmup: warmup[s.key],
    }])),
    bulk,
    workerd_rss_end_mib: mib(rssEnd.totalKiB),
    wall_seconds: (Date.now() - started) / 1000,
  };
  const file = join(ROOT, "bench", "results", "latest.json");
  writeJson(file, results);
  console.log(`\nresults: ${file} (wall time ${results.wall_seconds.toFixed(0)} s)`);
}

main().then(
  () => shutdown(0),
  async (err) => {
    log(`bench: FAILED: ${err?.stack ?? err}`);
    await shutdown(1);
  },
);
