// Small JSON client for the set-up steps of the benchmark (not used inside the load loops).
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function client(base, adminToken) {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };

  async function call(method, path, body, extra = {}) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...extra },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, text };
  }

  async function expect(status, method, path, body, extra) {
    const r = await call(method, path, body, extra);
    const ok = Array.isArray(status) ? status.includes(r.status) : r.status === status;
    if (!ok) throw new Error(`${method} ${path} answered ${r.status} (wanted ${status}): ${r.text.slice(0, 500)}`);
    return r;
  }

  let productNo = 0;
  return {
    call,
    async createProduct(name = "Bench") {
      const r = await expect(201, "POST", "/v1/products", {
        name: `${name} ${++productNo}`,
        kind: "code",
        price: 100,
        currency: "CNY",
      });
      return r.json.id;
    },

    /** Generates codes; up to 10,000 complete inline (201), more run as a job (202) that we poll. */
    async generate(productId, count, { pollMs = 100, timeoutMs = 300_000, onPoll } = {}) {
      const t0 = performance.now();
      const r = await expect([201, 202], "POST", `/v1/products/${productId}/batches`, { generate: { count } });
      let batch = r.json;
      const accepted = r.status;
      while (batch.status === "running") {
        if (performance.now() - t0 > timeoutMs)
          return { batch, accepted, seconds: (performance.now() - t0) / 1000, timedOut: true };
        await sleep(pollMs);
        batch = (await expect(200, "GET", `/v1/batches/${batch.id}`)).json;
        onPoll?.(batch);
      }
      const seconds = (performance.now() - t0) / 1000;
      if (batch.status !== "completed") throw new Error(`batch ${batch.id} ended ${batch.status}: ${batch.error}`);
      return { batch, accepted, seconds, timedOut: false };
    },

    async stock(productId) {
      return (await expect(200, "GET", `/v1/products/${productId}/stock`)).json;
    },

    /** Issues `count` codes through orders of up to 1000 codes each; returns the code strings. */
    async issueCodes(productId, count, keyPrefix) {
      const codes = [];
      for (let n = 0; codes.length < count; n++) {
        const quantity = Math.min(1000, count - codes.length);
        const r = await expect(
          201,
          "POST",
          "/v1/orders",
          { items: [{ product_id: productId, quantity }] },
          { "idempotency-key": `${keyPrefix}-${n}` },
        );
        for (const c of r.json.items[0].codes) codes.push(c.code);
      }
      return codes;
    },
  };
}
