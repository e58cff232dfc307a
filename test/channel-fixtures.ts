/** Fixtures for channel tests: build a tree, give it products, quotas and money, and act as any channel. */
import { call, idemKey } from "./helpers";

export async function createChannel(name: string, type: string, parentId?: string, token?: string) {
  const res = await call(
    "POST",
    "/v1/channels",
    { name, type, ...(parentId ? { parent_id: parentId } : {}) },
    { token },
  );
  if (res.status !== 201) throw new Error(`createChannel: ${res.status} ${res.text}`);
  return res.json as { id: string; path: string[]; depth: number };
}

export async function keyFor(channelId: string, scopes?: string[]) {
  const res = await call("POST", `/v1/channels/${channelId}/keys`, scopes ? { scopes } : {});
  if (res.status !== 201) throw new Error(`keyFor: ${res.status} ${res.text}`);
  return res.json.secret as string;
}

export async function setEntry(channelId: string, productId: string, body: Record<string, unknown>, token?: string) {
  return call("PUT", `/v1/channels/${channelId}/products/${productId}`, { enabled: true, ...body }, { token });
}

export async function allocate(productId: string, channelId: string, quantity: number, token?: string) {
  return call("POST", `/v1/products/${productId}/allocations`, { channel_id: channelId, quantity }, { token });
}

export async function topUp(channelId: string, amount: number, token?: string, currency = "CNY") {
  return call(
    "POST",
    `/v1/channels/${channelId}/balance`,
    { amount, currency, note: "test" },
    { token, headers: { "idempotency-key": idemKey("top") } },
  );
}

export async function orderAs(token: string, productId: string, quantity = 1, key = idemKey("chn")) {
  return call(
    "POST",
    "/v1/orders",
    { items: [{ product_id: productId, quantity }] },
    { token, headers: { "idempotency-key": key } },
  );
}
