// Consumer checkout, gateway notices, ledger lag and webhook latency (bench/run.mjs uses these).
//
// Checkout (POST /v1/checkout, publishable key of the root channel, gateway "sandbox") and the gateway
// notice path (POST /v1/public/payments/sandbox/notify, a `payment.succeeded` notice the bench signs with
// the runtime's SANDBOX_GATEWAY_SECRET exactly as a gateway would) run as ordinary autocannon scenarios.
// The ledger lag step pays a fixed number of held checkouts and polls GET /v1/reconciliation until it
// answers "ok"; the webhook step subscribes a local node:http receiver and times order placement → receipt.
import { createHmac, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { median } from "./report.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ORIGIN = "http://localhost:3000";
export const NOTIFY_PATH = "/v1/public/payments/sandbox/notify";

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const r1 = (x) => (x === null ? null : +x.toFixed(1));

/** A signed sandbox notice for one held checkout: `Sandbox-Signature: t=…,v1=HMAC-SHA256(secret, t.body)`. */
export function signedNotice(secret, c) {
  const body = JSON.stringify({
    id: `ntc_bench_${randomBytes(8).toString("hex")}`,
    type: "payment.succeeded",
    data: { order_id: c.order_id, payment_id: c.payment_id, amount: c.amount, currency: c.currency },
  });
  const t = Math.floor(Date.now() / 1000);
  return {
    headers: { "sandbox-signature": `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}` },
    body,
  };
}

/**
 * Set-up for the checkout scenarios: a product with stock and a publishable key of the root channel.
 * Keeps the checkouts created under load (`held`) so the notice scenario and the ledger step can pay them.
 */
export async function checkoutBench({ api, base, runId, sandboxSecret }) {
  const product = await api.createProduct("Bench checkout");
  const keyRes = await api.call("POST", "/v1/channels/chn_root/keys", {
    type: "publishable",
    name: "bench shop",
    allowed_origins: [ORIGIN],
  });
  if (keyRes.status !== 201) throw new Error(`publishable key: ${keyRes.status} ${keyRes.text.slice(0, 300)}`);
  const pk = keyRes.json.secret;
  let stockLeft = 0;
  const ensureStock = async (want) => {
    while (stockLeft < want) {
      const n = Math.min(10_000, Math.max(1000, want - stockLeft));
      await api.generate(product, n);
      stockLeft += n;
    }
  };
  const body = JSON.stringify({ items: [{ product_id: product, quantity: 1 }], gateway: "sandbox" });
  let n = 0;
  // Each checkout comes from its own client address: the checkout routes share the public per-IP limiter
  // (120/min in wrangler.toml; locally 60 got through from one address), which would otherwise cap the run
  // at one shopper's budget. Locally wrangler passes cf-connecting-ip through; on Cloudflare it is the real
  // client address.
  const nextCheckout = () => {
    if (stockLeft <= 0) return null;
    stockLeft--;
    const i = ++n;
    return {
      headers: {
        authorization: `Bearer ${pk}`,
        origin: ORIGIN,
        "idempotency-key": `bench-${runId}-co-${i}`,
        "cf-connecting-ip": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      },
      body,
    };
  };
  const held = [];
  let heldPos = 0;
  const keep = (status, text) => {
    if (status !== 201) return;
    try {
      const j = JSON.parse(text);
      held.push({ order_id: j.order_id, payment_id: j.payment.payment_id, amount: j.amount, currency: j.currency });
    } catch {
      /* not JSON */
    }
  };
  /** Creates `count` more held checkouts outside the measurement (50 at a time). */
  const makeHeld = async (count) => {
    await ensureStock(count + 100);
    let left = count;
    const worker = async () => {
      while (left > 0) {
        left--;
        const x = nextCheckout();
        const res = await fetch(`${base}/v1/checkout`, {
          method: "POST",
          headers: { ...x.headers, "content-type": "application/json" },
          body: x.body,
        });
        keep(res.status, await res.text());
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
  };
  const takeHeld = () => (heldPos < held.length ? held[heldPos++] : null);
  const heldLeft = () => held.length - heldPos;
  const nextNotice = () => {
    const c = takeHeld();
    return c ? signedNotice(sandboxSecret, c) : null;
  };
  return {
    product,
    ensureStock,
    stockLeft: () => stockLeft,
    nextCheckout,
    keep,
    makeHeld,
    takeHeld,
    heldLeft,
    nextNotice,
  };
}

/**
 * Ledger lag: pays `count` held checkouts (signed notices, `concurrency` at a time) on an idle runtime, then
 * polls GET /v1/reconciliation every `pollMs` until it answers "ok" with every payment of the day checked.
 * "ok" means each ChannelAccount's events are applied in D1 and every accepted gateway payment has its
 * gateway-clearing posting in the ledger (docs/money-flow.md).
 */
export async function ledgerLag({
  api,
  base,
  co,
  sandboxSecret,
  count,
  concurrency = 50,
  pollMs = 250,
  capS = 60,
  log,
}) {
  const day = () => new Date().toISOString().slice(0, 10);
  const before = await api.call("GET", `/v1/reconciliation?date=${day()}`);
  const payments0 = before.json?.checked?.payments ?? 0;
  log(
    `bench: ledger: reconciliation before: ${before.json?.status} (${payments0} payments checked), ${count} orders to pay`,
  );
  const orders = [];
  for (let i = 0; i < count; i++) {
    const c = co.takeHeld();
    if (!c) break;
    orders.push(c);
  }
  const statuses = {};
  let pos = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (pos < orders.length) {
      const n = signedNotice(sandboxSecret, orders[pos++]);
      const res = await fetch(`${base}${NOTIFY_PATH}`, {
        method: "POST",
        headers: { ...n.headers, "content-type": "application/json" },
        body: n.body,
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const tPaid = performance.now();
  const accepted = statuses[200] ?? 0;
  const polls = [];
  let last = null;
  let tPosted = null;
  while ((performance.now() - tPaid) / 1000 < capS) {
    const q0 = performance.now();
    const r = await api.call("GET", `/v1/reconciliation?date=${day()}`);
    const q1 = performance.now();
    last = r.json;
    polls.push({
      at_s: +((q1 - tPaid) / 1000).toFixed(2),
      took_ms: Math.round(q1 - q0),
      status: last?.status,
      payments: last?.checked?.payments,
      lagging: last?.lagging?.length ?? null,
      differences: (last?.differences ?? []).map((d) => `${d.kind} ${d.subject}`).slice(0, 5),
    });
    if (last?.status === "ok" && (last.checked?.payments ?? 0) >= payments0 + accepted) {
      tPosted = q1;
      break;
    }
    await sleep(pollMs);
  }
  const payS = (tPaid - t0) / 1000;
  const result = {
    orders: orders.length,
    accepted,
    notice_statuses: statuses,
    concurrency,
    pay_seconds: +payS.toFixed(2),
    notices_per_s: +(orders.length / payS).toFixed(1),
    posted: tPosted !== null,
    drain_after_last_payment_s: tPosted === null ? null : +((tPosted - tPaid) / 1000).toFixed(2),
    first_payment_to_all_posted_s: tPosted === null ? null : +((tPosted - t0) / 1000).toFixed(2),
    posted_orders_per_s: tPosted === null ? null : +(accepted / ((tPosted - t0) / 1000)).toFixed(1),
    reconciliation_before: { status: before.json?.status, payments: payments0 },
    reconciliation_last: last
      ? {
          status: last.status,
          checked: last.checked,
          differences: last.differences?.slice(0, 5),
          lagging: last.lagging?.slice(0, 5),
        }
      : null,
    reconciliation_poll_ms_median: median(polls.map((p) => p.took_ms)),
    polls: polls.length,
    poll_log: polls.slice(-40),
  };
  log(
    `bench: ledger: ${accepted}/${orders.length} notices accepted in ${result.pay_seconds} s (${result.notices_per_s}/s); ` +
      (result.posted
        ? `all posted ${result.drain_after_last_payment_s} s after the last payment (${result.posted_orders_per_s} orders/s from the first payment)`
        : `NOT all posted within ${capS} s (last: ${last?.status}, lagging ${last?.lagging?.length})`) +
      `; reconciliation call median ${result.reconciliation_poll_ms_median} ms over ${polls.length} polls`,
  );
  return result;
}

/**
 * Webhook latency: a node:http receiver on 127.0.0.1 subscribed to order.* (loopback is allowed when
 * ENVIRONMENT is development), then `count` root orders of one code placed `ratePerS` a second. Latency is
 * from sending POST /v1/orders to receiving the order's first webhook (and its order.fulfilled).
 */
export async function webhookLatency({ api, port, count, ratePerS = 10, capS = 30, runId, log }) {
  const product = await api.createProduct("Bench webhook");
  await api.generate(product, Math.max(1000, count + 10));
  const received = new Map(); // order id -> { first, types: {type: t} }
  const arrivals = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const t = performance.now();
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      try {
        const ev = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const id = ev.data?.order?.id;
        arrivals.push({
          type: ev.type,
          id,
          t,
          signed: /^t=\d+,v1=[0-9a-f]{64}$/.test(String(req.headers["voucher-signature"] ?? "")),
        });
        if (!id) return;
        const e = received.get(id) ?? { first: t, types: {} };
        e.types[ev.type] ??= t;
        received.set(id, e);
      } catch {
        /* not JSON */
      }
    });
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  let hookId = null;
  try {
    const sub = await api.call("POST", "/v1/webhooks", {
      url: `http://127.0.0.1:${port}/hook`,
      events: ["order.*"],
      description: "bench",
    });
    if (sub.status !== 201) throw new Error(`webhook subscription: ${sub.status} ${sub.text.slice(0, 300)}`);
    hookId = sub.json.id;
    const sent = new Map(); // order id -> send time
    const statuses = {};
    const t0 = performance.now();
    const inflight = [];
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / ratePerS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      inflight.push(
        (async () => {
          const ts = performance.now();
          const r = await api.call(
            "POST",
            "/v1/orders",
            { items: [{ product_id: product, quantity: 1 }] },
            { "idempotency-key": `bench-${runId}-wh-${i}` },
          );
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.status === 201) sent.set(r.json.id, { ts, answered: performance.now() });
        })(),
      );
    }
    await Promise.all(inflight);
    const tSent = performance.now();
    while (
      (performance.now() - tSent) / 1000 < capS &&
      [...sent.keys()].some((id) => !received.get(id)?.types["order.fulfilled"])
    )
      await sleep(100);
    const first = [];
    const fulfilled = [];
    for (const [id, s] of sent) {
      const e = received.get(id);
      if (!e) continue;
      first.push(e.first - s.ts);
      if (e.types["order.fulfilled"] !== undefined) fulfilled.push(e.types["order.fulfilled"] - s.ts);
    }
    const types = {};
    for (const a of arrivals) types[a.type] = (types[a.type] ?? 0) + 1;
    const summary = (xs) => ({
      n: xs.length,
      p50_ms: r1(pct(xs, 50)),
      p90_ms: r1(pct(xs, 90)),
      p99_ms: r1(pct(xs, 99)),
      max_ms: r1(xs.length ? Math.max(...xs) : null),
    });
    const result = {
      orders: count,
      rate_per_s: ratePerS,
      order_statuses: statuses,
      deliveries_received: arrivals.length,
      deliveries_by_type: types,
      all_signed: arrivals.every((a) => a.signed),
      missing_fulfilled: sent.size - fulfilled.length,
      order_to_first_webhook: summary(first),
      order_to_fulfilled_webhook: summary(fulfilled),
      order_response_ms_p50: r1(
        pct(
          [...sent.values()].map((s) => s.answered - s.ts),
          50,
        ),
      ),
    };
    log(
      `bench: webhooks: ${arrivals.length} deliveries for ${sent.size} orders (${JSON.stringify(types)}); order → order.fulfilled webhook p50 ${result.order_to_fulfilled_webhook.p50_ms} ms, p99 ${result.order_to_fulfilled_webhook.p99_ms} ms, max ${result.order_to_fulfilled_webhook.max_ms} ms; missing ${result.missing_fulfilled}`,
    );
    return result;
  } finally {
    if (hookId) await api.call("DELETE", `/v1/webhooks/${hookId}`).catch(() => {});
    const closed = new Promise((r) => server.close(r));
    server.closeAllConnections();
    await closed;
  }
}
