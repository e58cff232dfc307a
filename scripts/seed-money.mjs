// The money part of the demo seed (called by scripts/seed.mjs): split-settlement rules on the channel
// tree before the orders, then a consumer checkout paid through the sandbox gateway and a direct
// top-up through the fake provider, so statements, payouts and reconciliation show real numbers.

/** Commission by channel (basis points of each paid order of the channel or its subtree); the brand keeps the rest. */
const RULES = {
  national: { bps: 200 },
  zhejiang: { bps: 300 },
  guangdong: { bps: 300 },
  hangzhou: { bps: 800 },
  ningbo: { bps: 800 },
  guangzhou: { bps: 800 },
  shenzhen: { bps: 800, overrides: [{ product: "card", bps: 500 }] },
  marketplace: { bps: 500 },
  bank: { fixed_per_unit: 100, cap: 5_000 },
};

/** Sets every rule with the merchant's key (the root may set any channel's rule). */
export async function seedSettlement(admin, id, product) {
  for (const [key, rule] of Object.entries(RULES)) {
    const { overrides, ...base } = rule;
    const body = {
      ...base,
      ...(overrides
        ? { overrides: overrides.map(({ product: p, ...o }) => ({ product_id: product[p].id, ...o })) }
        : {}),
    };
    await admin("PUT", `/v1/channels/${id[key]}/settlement`, body);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A checkout in the own web shop paid through the sandbox, and a direct top-up; returns what to print. */
export async function seedPayments(base, admin, id, product, log) {
  const out = {};
  const pk = await admin("POST", `/v1/channels/${id.web}/keys`, {
    type: "publishable",
    name: "demo web shop",
    allowed_origins: ["http://localhost:3000", base],
  });
  out.publishableKey = pk.secret;
  const shop = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${pk.secret}`, "content-type": "application/json", ...headers },
      body: body && JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const checkout = await shop(
    "POST",
    "/v1/checkout",
    { items: [{ product_id: product.vip.id, quantity: 2 }], gateway: "sandbox", customer_ref: "web-buyer-1" },
    { "idempotency-key": `demo-checkout-${Date.now()}` },
  );
  const paid = await fetch(`${base}/v1/public/sandbox/pay/${checkout.order_id}`, { method: "POST" }).then((r) =>
    r.json(),
  );
  out.checkout = { order: checkout.order_id, outcome: paid.outcome };

  const topup = await admin(
    "POST",
    "/v1/orders",
    { items: [{ product_id: product.topup.id, quantity: 1, account: "13800138000" }] },
    { "idempotency-key": `demo-topup-${Date.now()}` },
  );
  for (let i = 0; i < 20; i++) {
    const o = await admin("GET", `/v1/orders/${topup.id}`);
    if (o.status !== "processing") {
      out.topup = { order: o.id, status: o.status };
      break;
    }
    await sleep(500);
  }
  out.topup ??= { order: topup.id, status: "processing" };
  log(
    `seed: web shop checkout ${out.checkout.order} paid through the sandbox (${out.checkout.outcome}); top-up ${out.topup.order} ${out.topup.status}`,
  );
  return out;
}

export function printMoney(log, base, id, money) {
  log(`
Money (docs/money-flow.md):
  Split rules      store 8 %, provincial 3 %, national 2 %, marketplace 5 %, bank ¥1/unit (cap ¥50); the brand keeps the rest
  Statement        curl -H "Authorization: Bearer $ADMIN_TOKEN" "${base}/v1/channels/${id.hangzhou}/statements?format=csv"
  Reconciliation   curl -H "Authorization: Bearer $ADMIN_TOKEN" ${base}/v1/reconciliation
  Web shop pk      ${money.publishableKey}  (POST ${base}/v1/checkout, then POST ${base}/v1/public/sandbox/pay/{order_id})`);
}
