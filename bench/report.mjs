// Medians over rounds, the printed table, and the JSON results file.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median figures of one scenario over its rounds (counts are summed, not medians). */
export function summarise(rounds) {
  const sum = (f) => rounds.reduce((a, r) => a + f(r), 0);
  return {
    requests_per_s: median(rounds.map((r) => r.requests_per_s)),
    ok_per_s: median(rounds.map((r) => r.ok_per_s)),
    p50_ms: median(rounds.map((r) => r.latency_ms.p50)),
    p99_ms: median(rounds.map((r) => r.latency_ms.p99)),
    total_requests: sum((r) => r.total_requests),
    ok_2xx: sum((r) => r.ok_2xx),
    non_2xx: sum((r) => r.non_2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    cpu_ms_per_request: median(rounds.map((r) => r.cpu_ms_per_request)),
    rounds_started_busy: rounds.filter((r) => r.started_busy).length,
    cpu_cores: {
      runtime: median(rounds.map((r) => r.cpu?.runtime_cores)),
      load_generator: median(rounds.map((r) => r.cpu?.load_generator_cores)),
      others: median(rounds.map((r) => r.cpu?.others_cores)),
    },
  };
}

const fmt = (x, d = 1) => (x === null || x === undefined ? "-" : Number(x).toFixed(d));

export function printTable(out, scenarios, bulk, { ledger, webhooks } = {}) {
  const head = [
    "scenario",
    "req/s",
    "p50 ms",
    "p99 ms",
    "2xx",
    "non-2xx",
    "errors",
    "req/s vs base",
    "p50 vs base",
    "CPU ms/req",
    "CPU runtime",
    "CPU others",
  ];
  const base = scenarios.find((s) => s.key === "baseline").summary;
  const rows = scenarios.map(({ label, summary: s }) => [
    label,
    fmt(s.requests_per_s, 0),
    fmt(s.p50_ms, 0),
    fmt(s.p99_ms, 0),
    String(s.ok_2xx),
    String(s.non_2xx),
    String(s.errors + s.timeouts),
    `${fmt(s.requests_per_s / base.requests_per_s, 2)}x`,
    `${fmt(s.p50_ms / base.p50_ms, 2)}x`,
    fmt(s.cpu_ms_per_request, 1),
    fmt(s.cpu_cores.runtime, 2),
    fmt(s.cpu_cores.others, 2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  out(line(head));
  out(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) out(line(r));
  out("");
  if (bulk) {
    const rss = (procs) => `${procs.map((p) => `${p.role} ${fmt(p.rss_mib, 0)}`).join(" + ")} MiB`;
    out(
      `bulk generate, ${bulk.batches} batch(es) of ${bulk.count} codes (background job; POST -> poll sees "completed"):`,
    );
    out(`  workerd RSS idle before: ${rss(bulk.rss_idle)}`);
    for (const r of bulk.runs) {
      out(
        `  batch ${r.batch}: ${r.timed_out ? `TIMED OUT at ${r.done} codes` : `${fmt(r.codes_per_s, 0)} codes/s`} (${fmt(r.seconds, 2)} s; server-side ${fmt(r.server_seconds, 2)} s); ` +
          `peak RSS ${fmt(r.rss_peak_total_mib, 0)} MiB total; after: ${rss(r.rss_after)}; CPU cores runtime ${fmt(r.cpu.runtime_cores, 2)}, others ${fmt(r.cpu.others_cores, 2)}`,
      );
    }
    const first = bulk.runs[0];
    out(
      `  design target >= ${bulk.target_codes_per_s} codes/s: ${first && first.codes_per_s >= bulk.target_codes_per_s ? "met" : "NOT met"} (batch 1 on fresh state)`,
    );
  }
  if (ledger) {
    out(
      `ledger lag: ${ledger.accepted}/${ledger.orders} checkouts paid by signed sandbox notices at ${ledger.concurrency} connections in ${fmt(ledger.pay_seconds, 2)} s (${fmt(ledger.notices_per_s, 0)}/s);`,
    );
    out(
      ledger.posted
        ? `  reconciliation ok (all posted) ${fmt(ledger.drain_after_last_payment_s, 2)} s after the last payment, ${fmt(ledger.first_payment_to_all_posted_s, 2)} s after the first: ${fmt(ledger.posted_orders_per_s, 0)} orders/s posted`
        : `  NOT all posted within the cap (last reconciliation: ${ledger.reconciliation_last?.status})`,
    );
    out(
      `  GET /v1/reconciliation took a median ${fmt(ledger.reconciliation_poll_ms_median, 0)} ms (${ledger.polls} polls); CPU cores runtime ${fmt(ledger.cpu?.runtime_cores, 2)}, others ${fmt(ledger.cpu?.others_cores, 2)}`,
    );
  }
  if (webhooks) {
    const f = webhooks.order_to_fulfilled_webhook;
    const w = webhooks.order_to_first_webhook;
    out(
      `webhooks: ${webhooks.orders} root orders at ${webhooks.rate_per_s}/s, ${webhooks.deliveries_received} deliveries received (${Object.entries(
        webhooks.deliveries_by_type,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}), missing order.fulfilled: ${webhooks.missing_fulfilled}`,
    );
    out(
      `  POST /v1/orders -> order.fulfilled received: p50 ${fmt(f.p50_ms, 0)} ms, p90 ${fmt(f.p90_ms, 0)}, p99 ${fmt(f.p99_ms, 0)}, max ${fmt(f.max_ms, 0)}; first webhook of the order: p50 ${fmt(w.p50_ms, 0)}, p99 ${fmt(w.p99_ms, 0)} ms`,
    );
  }
}

export function writeJson(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
