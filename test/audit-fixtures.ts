/**
 * Fixtures for the audit-log tests: calls made with their own request id and the rows they left, the product
 * and channels acted on (`t`), and every plaintext secret the API handed out in a file (`secrets`).
 */
import { env } from "cloudflare:workers";
import { createChannel } from "./channel-fixtures";
import { type CallOptions, call, createProduct, generate, idemKey } from "./helpers";

export interface Row {
  id: string;
  at: number;
  actor_key_id: string;
  actor_channel_id: string;
  action: string;
  resource_id: string | null;
  status: number;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

let ridSeq = 0;
export const rid = (label: string) => `audit-${label}-${Date.now()}-${++ridSeq}`;
export const rowsFor = async (requestId: string) =>
  (await env.DB.prepare("SELECT * FROM audit_log WHERE request_id = ?1").bind(requestId).all<Row>()).results;
export const allRows = async () => (await env.DB.prepare("SELECT * FROM audit_log ORDER BY id").all<Row>()).results;

/** A call with its own request id; returns the response and the audit rows it left. */
export async function audited(method: string, path: string, body?: unknown, opts: CallOptions = {}) {
  const requestId = rid(method.toLowerCase());
  const res = await call(method, path, body, {
    ...opts,
    headers: { ...(opts.headers ?? {}), "x-request-id": requestId },
  });
  return { res, rows: await rowsFor(requestId), requestId };
}

/** Every plaintext secret the API handed out in this file: codes, PINs, key secrets. */
export const secrets: string[] = [];

export async function newKey(channelId: string, body: Record<string, unknown> = {}, token?: string) {
  const res = await call("POST", `/v1/channels/${channelId}/keys`, body, { token });
  if (res.status !== 201) throw new Error(`key: ${res.status} ${res.text}`);
  secrets.push(res.json.secret);
  return res.json as { id: string; secret: string; scopes: string[] };
}

export const t = {} as {
  card: { id: string };
  orderId: string;
  A: { id: string };
  A1: { id: string };
  B: { id: string };
  keyA: { id: string; secret: string };
  keyA1: { id: string; secret: string };
  keyB: { id: string; secret: string };
  start: string;
};

/** The product and channels the audit tests act on (a file's beforeAll). */
export async function buildAuditTree(): Promise<void> {
  t.start = new Date(Date.now() - 1000).toISOString();
  t.card = await createProduct({ kind: "card", name: "Audit card" });
  await generate(t.card.id, 20);
  t.A = await createChannel("Audit A", "agent");
  t.A1 = await createChannel("Audit A1", "store", t.A.id);
  t.B = await createChannel("Audit B", "agent");
  t.keyA = await newKey(t.A.id, { name: "A" });
  t.keyA1 = await newKey(t.A1.id, { name: "A1" });
  t.keyB = await newKey(t.B.id, { name: "B" });
}

/**
 * For the tests that read the log: one of each kind of row they look for. A's key makes and revokes a key of A1
 * and is refused a product; the root places an order, reveals it and asks for an unknown one (sets t.orderId).
 */
export async function auditTrail(): Promise<void> {
  const made = await call("POST", `/v1/channels/${t.A1.id}/keys`, { name: "spare" }, { token: t.keyA.secret });
  if (made.status !== 201) throw new Error(`auditTrail key: ${made.status} ${made.text}`);
  await call("DELETE", `/v1/channels/${t.A1.id}/keys/${made.json.id}`, undefined, { token: t.keyA.secret });
  await call("POST", "/v1/products", { name: "x", kind: "code", price: 1, currency: "CNY" }, { token: t.keyA.secret });
  const placed = await call(
    "POST",
    "/v1/orders",
    { items: [{ product_id: t.card.id, quantity: 1 }] },
    { headers: { "idempotency-key": idemKey("audit") } },
  );
  if (placed.status !== 201) throw new Error(`auditTrail order: ${placed.status} ${placed.text}`);
  t.orderId = placed.json.id;
  await call("GET", `/v1/orders/${t.orderId}`);
  await call("GET", "/v1/orders/ord_00000000000000000000000000");
}
