// One autocannon run with per-request hooks, summarised: req/s, latency percentiles, status
// counts and a few sample error bodies (so errors under load can be reported precisely).
import autocannon from "autocannon";

const MAX_SAMPLES_PER_STATUS = 3;

/**
 * @param {object} o
 * @param {string} o.base      http://127.0.0.1:port
 * @param {string} o.token     admin token
 * @param {string} o.method
 * @param {string} o.path
 * @param {number} o.seconds
 * @param {number} o.connections
 * @param {() => ({headers?: object, body?: string} | null)} [o.next]  per-request extras; null = nothing left
 * @param {number} [o.maxRequests]  stop after this many responses (less than what `next` can supply)
 * @param {(status: number, body: string) => void} [o.onBody]  sees every response (e.g. to keep created ids)
 */
export async function load({ base, token, method, path, seconds, connections, next, maxRequests, onBody }) {
  const statuses = {};
  const samples = {};
  let exhausted = false;
  const request = {
    method,
    path,
    headers: { authorization: `Bearer ${token}`, ...(method === "POST" ? { "content-type": "application/json" } : {}) },
    onResponse(status, body) {
      statuses[status] = (statuses[status] ?? 0) + 1;
      onBody?.(status, body);
      if (status >= 300) {
        samples[status] ??= [];
        const list = samples[status];
        if (list.length < MAX_SAMPLES_PER_STATUS) list.push(String(body).slice(0, 300));
      }
    },
  };
  if (next) {
    request.setupRequest = (req) => {
      const extra = next();
      if (!extra) {
        exhausted = true;
        instance?.stop();
        // Keep the connection busy with a harmless request until autocannon stops.
        return { ...req, method: "GET", path: "/healthz", headers: {}, body: undefined };
      }
      return { ...req, headers: { ...req.headers, ...extra.headers }, body: extra.body ?? req.body };
    };
  }
  let instance = null;
  let timer = null;
  const result = await new Promise((resolve, reject) => {
    // With `amount`, autocannon ignores `duration`: our own timer bounds the time instead.
    const opts = { url: base, connections, duration: seconds, requests: [request], timeout: 30 };
    if (maxRequests) opts.amount = Math.max(connections, Math.floor(maxRequests));
    instance = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
    if (maxRequests) timer = setTimeout(() => instance.stop(), seconds * 1000);
  });
  clearTimeout(timer);
  return {
    // Completed responses (any status) per second of the run; autocannon's own figure averages 1 s samples.
    requests_per_s: result.requests.total / result.duration,
    ok_per_s: result["2xx"] / result.duration,
    total_requests: result.requests.total,
    seconds: result.duration,
    ended_early: result.duration < seconds - 0.5,
    latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    ok_2xx: result["2xx"],
    non_2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    error_samples: samples,
    ran_out_of_input: exhausted,
  };
}
