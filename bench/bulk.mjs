// Bulk generation: `batches` generate jobs of `count` codes one after another, each on its own product.
// Reports codes/s from the POST to the poll that sees "completed", and workerd memory: the peak while
// generating and each process after each batch, so a second batch shows whether memory levels off.
import { cpuMeter, rssSampler, workerdProcesses, workerdRss } from "./proc.mjs";

const mib = (kib) => +(kib / 1024).toFixed(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function bulkGenerate({ api, pgid, port, cores, count, batches, log }) {
  await sleep(500);
  const idle = workerdProcesses(pgid, port);
  const runs = [];
  for (let n = 1; n <= batches; n++) {
    const product = await api.createProduct("Bench bulk");
    const sampler = rssSampler(pgid, 50);
    const meter = cpuMeter(pgid, cores);
    const timeline = [];
    const t0 = performance.now();
    const onPoll = (bt) =>
      timeline.push([
        +((performance.now() - t0) / 1000).toFixed(2),
        bt.done,
        Math.round(workerdRss(pgid).totalKiB / 1024),
      ]);
    const gen = await api.generate(product, count, { pollMs: 100, timeoutMs: 150_000, onPoll });
    const cpu = meter();
    const peak = sampler.stop();
    await sleep(300);
    const b = gen.batch;
    const run = {
      batch: n,
      accepted_status: gen.accepted,
      status: b.status,
      done: b.done,
      timed_out: gen.timedOut,
      seconds: +gen.seconds.toFixed(3),
      codes_per_s: (gen.timedOut ? b.done : count) / gen.seconds,
      server_seconds: b.completed_at ? (Date.parse(b.completed_at) - Date.parse(b.created_at)) / 1000 : null,
      rss_peak_total_mib: mib(peak.totalKiB),
      rss_peak_largest_mib: mib(peak.maxKiB),
      rss_after: workerdProcesses(pgid, port),
      cpu,
      // [seconds since the POST, codes done, workerd RSS MiB] at each poll where `done` moved: the job's chunk cadence.
      progress: timeline.filter((p, i) => i === 0 || p[1] !== timeline[i - 1][1] || i === timeline.length - 1),
    };
    runs.push(run);
    log(
      `bench: bulk batch ${n}/${batches}: ${run.timed_out ? "TIMED OUT" : "completed"} in ${run.seconds.toFixed(2)} s (${run.codes_per_s.toFixed(0)} codes/s), peak workerd RSS ${run.rss_peak_total_mib.toFixed(0)} MiB; after: ${run.rss_after.map((p) => `${p.role} ${p.rss_mib.toFixed(0)} MiB`).join(", ")}`,
    );
    if (run.timed_out) break;
  }
  return { count, batches: runs.length, target_codes_per_s: 20_000, rss_idle: idle, runs };
}
