/**
 * The channel tree of the isolation tests: root → A → A1 and root → B → B1, each with products enabled, quotas,
 * balances, an order and a redemption, and keys of its own (`t`, filled by buildTree in each file's beforeAll).
 */
import { ROOT_CHANNEL_ID } from "../src/domain/ids";
import { allocate, createChannel, setEntry, topUp } from "./channel-fixtures";
import { call, createProduct, generate, idemKey } from "./helpers";

export type Res = Awaited<ReturnType<typeof call>>;

export interface Node {
  name: string;
  id: string;
  token: string;
  /** A second key of the channel, only ever used as the target of revoke probes. */
  spareKeyId: string;
  order: string;
  redemption: string;
  /** A direct child, for the routes that act on one. */
  child?: string;
}

export const t = {} as {
  root: { id: string; order: string; redemption: string; spareKeyId: string };
  A: Node;
  A1: Node;
  B: Node;
  B1: Node;
  /** In every pool. */
  P: string;
  /** In A's subtree only, in B's subtree only, and in no channel's pool. */
  QA: string;
  QB: string;
  R: string;
  batches: Record<"P" | "QA" | "QB" | "R", string>;
};

export const CHANNEL_SCOPES = [
  "products:read",
  "orders:read",
  "orders:write",
  "redemptions:write",
  "keys:write",
  "channels:read",
  "channels:write",
  "audit:read",
  "ledger:read",
  "webhooks:read",
  "webhooks:write",
];

export async function ok(res: Res, label: string, status = [200, 201]): Promise<any> {
  if (!status.includes(res.status)) throw new Error(`${label}: ${res.status} ${res.text}`);
  return res.json;
}

export async function newKey(channelId: string, body: Record<string, unknown> = {}, token?: string) {
  return ok(await call("POST", `/v1/channels/${channelId}/keys`, body, { token }), `key for ${channelId}`) as Promise<{
    id: string;
    secret: string;
    scopes: string[];
  }>;
}

async function buyAndRedeem(token: string | undefined, productId: string, label: string) {
  const o = await ok(
    await call(
      "POST",
      "/v1/orders",
      { items: [{ product_id: productId, quantity: 2 }] },
      { token, headers: { "idempotency-key": idemKey(label) } },
    ),
    `order ${label}`,
  );
  const r = await ok(
    await call("POST", "/v1/redemptions", { code: o.items[0].codes[0].code, redeemer: label }, { token }),
    `redeem ${label}`,
  );
  return { order: o.id as string, redemption: r.id as string };
}

/** Builds the tree, its products, quotas, balances, an order and a redemption per channel (a file's beforeAll). */
export async function buildTree(): Promise<void> {
  await call("GET", "/healthz", undefined, { token: null }); // warm the runtime

  const product = async (codes: number, price: number, name: string) => {
    const p = await createProduct({ name, price });
    return { id: p.id, batch: (await generate(p.id, codes)).id as string };
  };
  const [P, QA, QB, R] = [
    await product(80, 1000, "P everywhere"),
    await product(20, 500, "QA"),
    await product(20, 500, "QB"),
    await product(5, 700, "R root only"),
  ];
  Object.assign(t, {
    P: P.id,
    QA: QA.id,
    QB: QB.id,
    R: R.id,
    batches: { P: P.batch, QA: QA.batch, QB: QB.batch, R: R.batch },
  });

  const A = await createChannel("Agent A", "agent");
  const B = await createChannel("Agent B", "agent");
  const A1 = await createChannel("Store A1", "store", A.id);
  const B1 = await createChannel("Store B1", "store", B.id);

  const node = async (name: string, id: string): Promise<Node> => {
    const main = await newKey(id, { name: `${name} main` });
    const spare = await newKey(id, { name: `${name} spare` });
    return { name, id, token: main.secret, spareKeyId: spare.id, order: "", redemption: "" };
  };
  t.A = await node("A", A.id);
  t.A1 = await node("A1", A1.id);
  t.B = await node("B", B.id);
  t.B1 = await node("B1", B1.id);
  t.A.child = A1.id;
  t.B.child = B1.id;

  // Pools and prices: the root prices A and B, each agent its store.
  for (const [top, store, own] of [
    [t.A, t.A1, t.QA],
    [t.B, t.B1, t.QB],
  ] as const) {
    for (const productId of [t.P, own]) {
      await ok(await setEntry(top.id, productId, { discount_bps: 1000 }), "entry");
      await ok(await setEntry(store.id, productId, {}, top.token), "store entry");
    }
    await ok(await allocate(t.P, top.id, 25), "quota");
    await ok(await allocate(own, top.id, 10), "quota");
    await ok(await allocate(t.P, store.id, 8, top.token), "store quota");
    await ok(await allocate(own, store.id, 3, top.token), "store quota");
    await ok(await topUp(top.id, 100_000), "top-up");
    await ok(await topUp(store.id, 50_000, top.token), "store top-up");
  }

  // An order and a redemption in every channel, the root included.
  for (const n of [t.A, t.A1, t.B, t.B1]) Object.assign(n, await buyAndRedeem(n.token, t.P, n.name));
  t.root = {
    id: ROOT_CHANNEL_ID,
    ...(await buyAndRedeem(undefined, t.P, "root")),
    spareKeyId: (await newKey(ROOT_CHANNEL_ID, { name: "root spare" })).id,
  };
}

/** Whether a response has the API's error shape; null when it has, else what is wrong. */
export function errorShape(res: Res): string | null {
  const e = res.json?.error;
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json")) return "not JSON";
  if (!e || typeof e.code !== "string" || !/^[a-z][a-z0-9_]*$/.test(e.code) || typeof e.message !== "string")
    return `not the error shape: ${res.text.slice(0, 200)}`;
  return null;
}
