/**
 * The probes of the isolation tests: every route that takes an id, sent with ids outside the caller's subtree
 * next to a made-up id of the same prefix; both must answer the same 404 (status, code and message, ids aside).
 */
import { type IdPrefix, newId } from "../src/domain/ids";
import { call, idemKey } from "./helpers";
import { errorShape, type Node, type Res, t } from "./isolation-fixtures";

export interface Req {
  method: string;
  path: string;
  body?: unknown;
}
export interface Probe {
  label: string;
  prefix: IdPrefix;
  req: (id: string, me: Node) => Req | null;
  /** Root-only resources may refuse every id alike with 403 instead of 404. */
  uniform403?: boolean;
}

const spareKeyOf = (id: string) => [t.root, t.A, t.A1, t.B, t.B1].find((n) => n.id === id)?.spareKeyId ?? newId("key");

export const channelProbes: Probe[] = [
  { label: "GET /v1/channels/{id}", prefix: "chn", req: (id) => ({ method: "GET", path: `/v1/channels/${id}` }) },
  {
    label: "PATCH /v1/channels/{id} name",
    prefix: "chn",
    req: (id) => ({ method: "PATCH", path: `/v1/channels/${id}`, body: { name: "taken over" } }),
  },
  {
    label: "PATCH /v1/channels/{id} status",
    prefix: "chn",
    req: (id) => ({ method: "PATCH", path: `/v1/channels/${id}`, body: { status: "suspended" } }),
  },
  {
    label: "PATCH /v1/channels/{id} credit_limit",
    prefix: "chn",
    req: (id) => ({ method: "PATCH", path: `/v1/channels/${id}`, body: { credit_limit: 1_000_000 } }),
  },
  {
    label: "POST /v1/channels parent_id",
    prefix: "chn",
    req: (id) => ({ method: "POST", path: "/v1/channels", body: { name: "implant", type: "store", parent_id: id } }),
  },
  {
    label: "GET /v1/channels/{id}/keys",
    prefix: "chn",
    req: (id) => ({ method: "GET", path: `/v1/channels/${id}/keys` }),
  },
  {
    label: "POST /v1/channels/{id}/keys",
    prefix: "chn",
    req: (id) => ({ method: "POST", path: `/v1/channels/${id}/keys`, body: { name: "stolen" } }),
  },
  {
    label: "DELETE /v1/channels/{id}/keys/{its key}",
    prefix: "chn",
    req: (id) => ({ method: "DELETE", path: `/v1/channels/${id}/keys/${spareKeyOf(id)}` }),
  },
  {
    label: "PUT /v1/channels/{id}/products/{P}",
    prefix: "chn",
    req: (id) => ({ method: "PUT", path: `/v1/channels/${id}/products/${t.P}`, body: { enabled: true, price: 1 } }),
  },
  {
    label: "GET /v1/channels/{id}/balance",
    prefix: "chn",
    req: (id) => ({ method: "GET", path: `/v1/channels/${id}/balance` }),
  },
  {
    label: "POST /v1/channels/{id}/balance",
    prefix: "chn",
    req: (id) => ({ method: "POST", path: `/v1/channels/${id}/balance`, body: { amount: 1, currency: "CNY" } }),
  },
  {
    label: "GET /v1/channels/{id}/summary",
    prefix: "chn",
    req: (id) => ({ method: "GET", path: `/v1/channels/${id}/summary` }),
  },
  {
    label: "POST /v1/products/{P}/allocations +1 to {id}",
    prefix: "chn",
    req: (id) => ({ method: "POST", path: `/v1/products/${t.P}/allocations`, body: { channel_id: id, quantity: 1 } }),
  },
  {
    label: "POST /v1/products/{P}/allocations −1 from {id}",
    prefix: "chn",
    req: (id) => ({ method: "POST", path: `/v1/products/${t.P}/allocations`, body: { channel_id: id, quantity: -1 } }),
  },
];

export const keyProbes: Probe[] = [
  {
    label: "DELETE /v1/channels/{own}/keys/{id}",
    prefix: "key",
    req: (id, me) => ({ method: "DELETE", path: `/v1/channels/${me.id}/keys/${id}` }),
  },
];

export const productProbes: Probe[] = [
  { label: "GET /v1/products/{id}", prefix: "prd", req: (id) => ({ method: "GET", path: `/v1/products/${id}` }) },
  {
    label: "GET /v1/products/{id}/stock",
    prefix: "prd",
    req: (id) => ({ method: "GET", path: `/v1/products/${id}/stock` }),
  },
  {
    label: "POST /v1/orders with {id}",
    prefix: "prd",
    req: (id) => ({ method: "POST", path: "/v1/orders", body: { items: [{ product_id: id, quantity: 1 }] } }),
  },
  {
    label: "PUT /v1/channels/{own}/products/{id}",
    prefix: "prd",
    req: (id, me) => ({ method: "PUT", path: `/v1/channels/${me.id}/products/${id}`, body: { enabled: true } }),
  },
  {
    label: "PUT /v1/channels/{child}/products/{id}",
    prefix: "prd",
    req: (id, me) =>
      me.child ? { method: "PUT", path: `/v1/channels/${me.child}/products/${id}`, body: { enabled: true } } : null,
  },
  {
    label: "POST /v1/products/{id}/allocations to {child}",
    prefix: "prd",
    req: (id, me) =>
      me.child
        ? { method: "POST", path: `/v1/products/${id}/allocations`, body: { channel_id: me.child, quantity: 1 } }
        : null,
  },
];

export const orderProbes: Probe[] = [
  { label: "GET /v1/orders/{id}", prefix: "ord", req: (id) => ({ method: "GET", path: `/v1/orders/${id}` }) },
];
export const redemptionProbes: Probe[] = [
  {
    label: "POST /v1/redemptions/{id}/reverse",
    prefix: "rdm",
    req: (id) => ({ method: "POST", path: `/v1/redemptions/${id}/reverse` }),
  },
];
export const batchProbes: Probe[] = [
  {
    label: "GET /v1/batches/{id}",
    prefix: "bat",
    req: (id) => ({ method: "GET", path: `/v1/batches/${id}` }),
    uniform403: true,
  },
];

async function send(me: Node, r: Req): Promise<Res> {
  return call(r.method, r.path, r.body, {
    token: me.token,
    headers: r.method === "POST" && r.path === "/v1/orders" ? { "idempotency-key": idemKey("probe") } : {},
  });
}

/**
 * Sends each probe with each foreign id and with a made-up id of the same prefix; returns one
 * line per difference (empty when every foreign id is indistinguishable from an unknown one).
 */
export async function probe(me: Node, probes: Probe[], foreign: string[]): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(
    probes.flatMap((p) =>
      foreign.map(async (id) => {
        const made = newId(p.prefix);
        const foreignReq = p.req(id, me);
        const unknownReq = p.req(made, me);
        if (!foreignReq || !unknownReq) return;
        const theirs = await send(me, foreignReq);
        const unknown = await send(me, unknownReq);
        const norm = (res: Res, own: string) =>
          `${res.status} ${res.json?.error?.code} ${String(res.json?.error?.message ?? "")
            .split(own)
            .join("<id>")}`;
        const where = `${me.name}'s key, ${p.label} with ${id}`;
        const statuses = p.uniform403 ? [403, 404] : [404];
        const shape = errorShape(theirs);
        if (!statuses.includes(theirs.status) || shape)
          problems.push(
            `${where}: ${theirs.status} ${shape ? theirs.text.slice(0, 160) : `${theirs.json.error.code} (expected ${statuses.join(" or ")})`}`,
          );
        else if (norm(theirs, id) !== norm(unknown, made))
          problems.push(`${where}: answers «${norm(theirs, id)}», an unknown id «${norm(unknown, made)}»`);
      }),
    ),
  );
  return problems.sort();
}

/** Everything a key must not see: ids outside its subtree, by kind. */
export function outside(me: Node) {
  const all = [t.root, t.A, t.A1, t.B, t.B1];
  const mine = me === t.A ? [t.A, t.A1] : me === t.B ? [t.B, t.B1] : [me];
  const others = all.filter((n) => !mine.includes(n as Node));
  const pool = me === t.A || me === t.A1 ? [t.P, t.QA] : [t.P, t.QB];
  return {
    channels: others.map((n) => n.id),
    keys: others.map((n) => n.spareKeyId),
    orders: others.map((n) => n.order),
    // A redemption is reversed by the channel that redeemed it; the others' are out of reach.
    redemptions: others.map((n) => n.redemption),
    products: [t.P, t.QA, t.QB, t.R].filter((p) => !pool.includes(p)),
    batchesOutsidePool: (["P", "QA", "QB", "R"] as const).filter((k) => !pool.includes(t[k])).map((k) => t.batches[k]),
    batchesInPool: (["P", "QA", "QB", "R"] as const).filter((k) => pool.includes(t[k])).map((k) => t.batches[k]),
  };
}

export const callers = () => [t.A, t.A1, t.B, t.B1];
export const names = ["A", "A1", "B", "B1"] as const;
