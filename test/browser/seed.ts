/** What the browser tests share, created through the public API with the admin token. */
export interface Seeded {
  base: string;
  adminToken: string;
  owner: { email: string; password: string };
  manager: { email: string; password: string };
  agentId: string;
  storeId: string;
  storeName: string;
  siblingId: string;
  siblingName: string;
  productId: string;
  storeKey: string;
}

const PASSWORD = "browser-tests-password-1";

/** A JSON call to the runtime with a bearer token and a fresh Idempotency-Key (safe on every method). */
export function apiCaller(base: string, defaultToken: string) {
  return async (method: string, path: string, body?: unknown, token = defaultToken) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
}

export async function seedBrowserWorld(base: string, adminToken: string): Promise<Seeded> {
  const call = apiCaller(base, adminToken);
  const api = async (method: string, path: string, body?: unknown, token = adminToken) => {
    const { status, json } = await call(method, path, body, token);
    if (status >= 300) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(json.error)}`);
    return json;
  };
  const product = await api("POST", "/v1/products", { name: "Browser VIP card", price: 2990, currency: "CNY" });
  await api("POST", `/v1/products/${product.id}/batches`, { generate: { count: 200 } });
  const agent = await api("POST", "/v1/channels", { name: "Browser agent", type: "agent" });
  const store = await api("POST", "/v1/channels", { name: "Lakeside store", type: "store", parent_id: agent.id });
  const sibling = await api("POST", "/v1/channels", { name: "Riverside store", type: "store", parent_id: agent.id });
  const agentKey = (await api("POST", `/v1/channels/${agent.id}/keys`, {})).secret;
  for (const ch of [agent, store, sibling])
    await api("PUT", `/v1/channels/${ch.id}/products/${product.id}`, { enabled: true, price: 2500 });
  await api("POST", `/v1/products/${product.id}/allocations`, { channel_id: agent.id, quantity: 120 });
  for (const ch of [store, sibling]) {
    await api("POST", `/v1/products/${product.id}/allocations`, { channel_id: ch.id, quantity: 50 }, agentKey);
    await api("POST", `/v1/channels/${ch.id}/balance`, { amount: 1_000_000, currency: "CNY" });
  }
  const storeKey = (await api("POST", `/v1/channels/${store.id}/keys`, {})).secret;
  const siblingKey = (await api("POST", `/v1/channels/${sibling.id}/keys`, {})).secret;
  // The sibling sells too, so its numbers exist and must not show in the store manager's console.
  await api(
    "POST",
    "/v1/orders",
    { items: [{ product_id: product.id, quantity: 3 }], customer_ref: "river-buyer" },
    siblingKey,
  );
  const owner = { email: "browser.owner@example.com", password: PASSWORD };
  const manager = { email: "browser.manager@example.com", password: PASSWORD };
  await api("POST", "/v1/users", { ...owner, role: "owner" });
  await api("POST", "/v1/users", { ...manager, role: "channel_manager", channel_id: store.id });
  return {
    base,
    adminToken,
    owner,
    manager,
    agentId: agent.id,
    storeId: store.id,
    storeName: store.name,
    siblingId: sibling.id,
    siblingName: sibling.name,
    productId: product.id,
    storeKey,
  };
}
