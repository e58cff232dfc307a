/**
 * Channel isolation (IDOR). The tree: root → A → A1 and root → B → B1, each with products
 * enabled, quotas, balances, orders and redemptions, and a key of its own.
 *
 * The rule under test: "A key sees and manages only its channel's subtree: every lookup is
 * scoped, and another subtree's id answers 404 exactly like an unknown id, so ids cannot be
 * probed." and "every ancestor sees its descendants' totals, and a channel never sees its
 * siblings'". For every route that takes an id, each key is sent every id outside its subtree
 * (siblings, cousins, ancestors, the root's own things) next to a made-up id of the same
 * prefix: both must answer the same 404 (status, error code and message, ids aside).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type IdPrefix, newId, ROOT_CHANNEL_ID } from "../src/domain/ids";
import { allocate, createChannel, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, createProduct, eventually, generate, idemKey } from "./helpers";

type Res = Awaited<ReturnType<typeof call>>;

interface Node {
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

const t = {} as {
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

const CHANNEL_SCOPES = [
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

async function ok(res: Res, label: string, status = [200, 201]): Promise<any> {
  if (!status.includes(res.status)) throw new Error(`${label}: ${res.status} ${res.text}`);
  return res.json;
}

async function newKey(channelId: string, body: Record<string, unknown> = {}, token?: string) {
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

beforeAll(async () => {
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
});

// ------------------------------------------------------------------------------------------ probes

interface Req {
  method: string;
  path: string;
  body?: unknown;
}
interface Probe {
  label: string;
  prefix: IdPrefix;
  req: (id: string, me: Node) => Req | null;
  /** Root-only resources may refuse every id alike with 403 instead of 404. */
  uniform403?: boolean;
}

const spareKeyOf = (id: string) => [t.root, t.A, t.A1, t.B, t.B1].find((n) => n.id === id)?.spareKeyId ?? newId("key");

const channelProbes: Probe[] = [
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

const keyProbes: Probe[] = [
  {
    label: "DELETE /v1/channels/{own}/keys/{id}",
    prefix: "key",
    req: (id, me) => ({ method: "DELETE", path: `/v1/channels/${me.id}/keys/${id}` }),
  },
];

const productProbes: Probe[] = [
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

const orderProbes: Probe[] = [
  { label: "GET /v1/orders/{id}", prefix: "ord", req: (id) => ({ method: "GET", path: `/v1/orders/${id}` }) },
];
const redemptionProbes: Probe[] = [
  {
    label: "POST /v1/redemptions/{id}/reverse",
    prefix: "rdm",
    req: (id) => ({ method: "POST", path: `/v1/redemptions/${id}/reverse` }),
  },
];
const batchProbes: Probe[] = [
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

function errorShape(res: Res): string | null {
  const e = res.json?.error;
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json")) return "not JSON";
  if (!e || typeof e.code !== "string" || !/^[a-z][a-z0-9_]*$/.test(e.code) || typeof e.message !== "string")
    return `not the error shape: ${res.text.slice(0, 200)}`;
  return null;
}

/**
 * Sends each probe with each foreign id and with a made-up id of the same prefix; returns one
 * line per difference (empty when every foreign id is indistinguishable from an unknown one).
 */
async function probe(me: Node, probes: Probe[], foreign: string[]): Promise<string[]> {
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
function outside(me: Node) {
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

const callers = () => [t.A, t.A1, t.B, t.B1];
const names = ["A", "A1", "B", "B1"] as const;

describe("another subtree's id answers 404 exactly like an unknown id", () => {
  for (const [i, name] of names.entries()) {
    describe(`${name}'s key`, () => {
      const me = () => callers()[i];
      it("channels: read, rename, suspend, credit, create under, keys, price list, balance, summary, quota", async () => {
        expect(await probe(me(), channelProbes, outside(me()).channels)).toEqual([]);
      });
      it("keys of other channels cannot be revoked through its own channel", async () => {
        expect(await probe(me(), keyProbes, outside(me()).keys)).toEqual([]);
      });
      it("orders of other subtrees", async () => {
        expect(await probe(me(), orderProbes, outside(me()).orders)).toEqual([]);
      });
      it("redemptions of other channels cannot be reversed", async () => {
        expect(await probe(me(), redemptionProbes, outside(me()).redemptions)).toEqual([]);
      });
      it("products outside its pool: read, stock, order, allocate", async () => {
        const probes = productProbes.filter((p) => !p.label.startsWith("PUT"));
        expect(await probe(me(), probes, outside(me()).products)).toEqual([]);
      });
      it("products outside its pool: price-list entries of its own channel and its child", async () => {
        const probes = productProbes.filter((p) => p.label.startsWith("PUT"));
        expect(await probe(me(), probes, outside(me()).products)).toEqual([]);
      });
      it("batches of products outside its pool", async () => {
        expect(await probe(me(), batchProbes, outside(me()).batchesOutsidePool)).toEqual([]);
      });
      it("batches are the merchant's: also for products in its pool", async () => {
        expect(await probe(me(), batchProbes, outside(me()).batchesInPool)).toEqual([]);
      });
    });
  }

  it("the probes changed nothing: the others' channels, keys, prices and balances are as they were", async () => {
    for (const n of [t.A, t.A1, t.B, t.B1]) {
      const ch = await call("GET", `/v1/channels/${n.id}`);
      expect(ch.json).toMatchObject({ status: "active", name: expect.not.stringContaining("taken over") });
      const keys = await call("GET", `/v1/channels/${n.id}/keys`);
      expect(keys.json.data.filter((k: any) => k.revoked_at !== null)).toEqual([]);
      // Topped up once by its parent, then one order of 2 × 900.
      const balance = await call("GET", `/v1/channels/${n.id}/balance`);
      expect(balance.json).toMatchObject({
        balance: (n === t.A || n === t.B ? 100_000 : 50_000) - 1800,
        credit_limit: 0,
      });
      expect(
        (await call("GET", "/v1/products?limit=100", undefined, { token: n.token })).json.data.map((p: any) => p.price),
      ).toEqual([900, 450]);
    }
    const children = await call("GET", "/v1/channels?limit=100");
    expect(children.json.data.filter((c: any) => c.name === "implant")).toEqual([]);
  });
});

describe("a parent sees and manages its descendants", () => {
  it("A's key reads and manages A1: channel, keys, price list, quota, balance, summary", async () => {
    const { A, A1 } = t;
    const as = { token: A.token };
    expect((await call("GET", `/v1/channels/${A1.id}`, undefined, as)).json).toMatchObject({
      id: A1.id,
      parent_id: A.id,
      path: [ROOT_CHANNEL_ID, A.id, A1.id],
    });
    const keys = await call("GET", `/v1/channels/${A1.id}/keys`, undefined, as);
    expect(keys.status).toBe(200);
    expect(keys.json.data.map((k: any) => k.channel_id)).toEqual(keys.json.data.map(() => A1.id));
    expect(keys.json.data.every((k: any) => k.secret === undefined)).toBe(true);
    const made = await call("POST", `/v1/channels/${A1.id}/keys`, { name: "from parent", scopes: ["orders:read"] }, as);
    expect(made.status).toBe(201);
    expect(
      (await call("DELETE", `/v1/channels/${A1.id}/keys/${made.json.id}`, undefined, as)).json.revoked_at,
    ).not.toBeNull();
    expect((await setEntry(A1.id, t.P, { price: 950 }, A.token)).json).toMatchObject({ effective_price: 950 });
    expect((await setEntry(A1.id, t.P, {}, A.token)).json).toMatchObject({ effective_price: 900 });
    expect((await allocate(t.P, A1.id, 1, A.token)).status).toBe(200);
    expect((await allocate(t.P, A1.id, -1, A.token)).status).toBe(200);
    expect((await topUp(A1.id, 1, A.token)).status).toBe(200);
    expect((await call("GET", `/v1/channels/${A1.id}/balance`, undefined, as)).json).toMatchObject({
      channel_id: A1.id,
      currency: "CNY",
    });
    expect((await call("PATCH", `/v1/channels/${A1.id}`, { credit_limit: 0 }, as)).status).toBe(200);
    expect((await call("GET", `/v1/channels/${A1.id}/summary`, undefined, as)).status).toBe(200);
  });

  it("orders: a parent reads a descendant's order (without its codes); the root reads every order", async () => {
    for (const [reader, n] of [
      [t.A, t.A1],
      [t.B, t.B1],
    ] as const) {
      const res = await eventually(
        () => call("GET", `/v1/orders/${n.order}`, undefined, { token: reader.token }),
        (r) => r.status === 200,
      );
      expect(res.status, `${reader.name} reads ${n.name}'s order: ${res.text}`).toBe(200);
      expect(res.json).toMatchObject({ id: n.order, channel_id: n.id });
      expect(
        res.json.items.every((i: any) => i.codes === undefined),
        "codes are for the channel that ordered",
      ).toBe(true);
    }
    for (const n of [t.A, t.A1, t.B, t.B1]) {
      const res = await call("GET", `/v1/orders/${n.order}`);
      expect(res.status, `the root reads ${n.name}'s order: ${res.text}`).toBe(200);
    }
    // Its own order comes with the codes.
    const own = await call("GET", `/v1/orders/${t.A1.order}`, undefined, { token: t.A1.token });
    expect(own.json.items[0].codes).toHaveLength(2);
  });
});

describe("lists never leave the caller's subtree", () => {
  const subtreeOf = (n: Node): Node[] => (n === t.A ? [t.A, t.A1] : n === t.B ? [t.B, t.B1] : [n]);

  it("GET /v1/channels: the caller's subtree, itself included; filters cannot reach outside", async () => {
    for (const n of [t.A, t.A1, t.B, t.B1]) {
      const res = await call("GET", "/v1/channels?limit=100", undefined, { token: n.token });
      expect(res.status).toBe(200);
      for (const c of res.json.data) expect(c.path, `${n.name} lists ${c.id}`).toContain(n.id);
      expect(res.json.data.map((c: any) => c.id)).toEqual(expect.arrayContaining(subtreeOf(n).map((m) => m.id)));
      const sibling = n === t.A || n === t.A1 ? t.B : t.A;
      expect(
        (await call("GET", `/v1/channels?parent_id=${sibling.id}`, undefined, { token: n.token })).json.data,
      ).toEqual([]);
      expect((await call("GET", `/v1/channels?type=root`, undefined, { token: n.token })).json.data).toEqual([]);
    }
  });

  it("GET /v1/orders: the caller's subtree's orders, no other; a parent's list includes its descendants'", async () => {
    for (const n of [t.A, t.A1, t.B, t.B1]) {
      const expected = subtreeOf(n).map((m) => m.order);
      const res = await eventually(
        () => call("GET", "/v1/orders?limit=100", undefined, { token: n.token }),
        (r) => r.status === 200 && expected.every((id) => r.json.data.some((o: any) => o.id === id)),
      );
      expect(res.status).toBe(200);
      const allowed = subtreeOf(n).map((m) => m.id);
      for (const o of res.json.data)
        expect(allowed, `${n.name} lists order ${o.id} of ${o.channel_id}`).toContain(o.channel_id);
      expect(res.json.data.map((o: any) => o.id)).toEqual(expect.arrayContaining(expected));
      const other = n === t.A || n === t.A1 ? t.B : t.A;
      const filtered = await call("GET", `/v1/orders?channel_id=${other.id}`, undefined, { token: n.token });
      expect(filtered.status === 200 ? filtered.json.data : [], `${n.name} filters by ${other.name}`).toEqual([]);
    }
  });

  it("GET /v1/products: only the caller's pool, at its own price", async () => {
    const pools = new Map<Node, [string, number][]>([
      [
        t.A,
        [
          [t.P, 900],
          [t.QA, 450],
        ],
      ],
      [
        t.A1,
        [
          [t.P, 900],
          [t.QA, 450],
        ],
      ],
      [
        t.B,
        [
          [t.P, 900],
          [t.QB, 450],
        ],
      ],
      [
        t.B1,
        [
          [t.P, 900],
          [t.QB, 450],
        ],
      ],
    ]);
    for (const [n, pool] of pools) {
      const res = await call("GET", "/v1/products?limit=100", undefined, { token: n.token });
      expect(res.json.data.map((p: any) => [p.id, p.price]).sort(), n.name).toEqual([...pool].sort());
      expect(
        (await call("GET", "/v1/products?limit=100&status=active", undefined, { token: n.token })).json.data,
      ).toHaveLength(2);
    }
  });

  it("GET /v1/products/{id}/stock: allocations of the caller's subtree only, no unallocated count", async () => {
    for (const n of [t.A, t.A1, t.B, t.B1]) {
      const res = await call("GET", `/v1/products/${t.P}/stock`, undefined, { token: n.token });
      expect(res.status).toBe(200);
      expect(res.json.unallocated).toBeNull();
      expect(res.json.allocations.map((a: any) => a.channel_id).sort()).toEqual(
        subtreeOf(n)
          .map((m) => m.id)
          .sort(),
      );
    }
    const root = await call("GET", `/v1/products/${t.P}/stock`);
    expect(root.json.allocations.map((a: any) => a.channel_id).sort()).toEqual(
      [t.A.id, t.A1.id, t.B.id, t.B1.id].sort(),
    );
  });

  it("summaries: every ancestor sees its descendants' totals, never a sibling's", async () => {
    // Each channel ordered 2 units of P at 900 (the root at 1000); projections land a moment later.
    const rootSum = await eventually(
      () => call("GET", `/v1/channels/${ROOT_CHANNEL_ID}/summary`),
      (r) => r.json?.totals?.orders >= 5,
    );
    expect(rootSum.json.totals).toMatchObject({ orders: 5, units: 10, revenue: 4 * 1800 + 2000 });
    expect(rootSum.json.children.map((c: any) => [c.channel_id, c.orders, c.units, c.revenue])).toEqual(
      expect.arrayContaining([
        [t.A.id, 2, 4, 3600],
        [t.B.id, 2, 4, 3600],
      ]),
    );
    for (const [top, store] of [
      [t.A, t.A1],
      [t.B, t.B1],
    ] as const) {
      const sum = await call("GET", `/v1/channels/${top.id}/summary`, undefined, { token: top.token });
      expect(sum.json.totals).toMatchObject({ orders: 2, units: 4, revenue: 3600 });
      expect(sum.json.children.map((c: any) => c.channel_id)).toEqual([store.id]);
      expect(sum.json.children[0]).toMatchObject({ orders: 1, units: 2, revenue: 1800 });
      const own = await call("GET", `/v1/channels/${store.id}/summary`, undefined, { token: store.token });
      expect(own.json.totals).toMatchObject({ orders: 1, units: 2, revenue: 1800 });
      expect(own.json.children).toEqual([]);
      for (const p of [...sum.json.products, ...own.json.products])
        expect([t.P, top === t.A ? t.QA : t.QB]).toContain(p.product_id);
    }
  });
});

describe("a channel cannot manage itself, nor do the merchant's work", () => {
  const refusals = async (label: string, attempts: (n: Node) => Promise<[string, Res][]>) => {
    const wrong: string[] = [];
    for (const n of [t.A, t.A1]) {
      for (const [what, r] of await attempts(n))
        if (r.status !== 403 || errorShape(r)) wrong.push(`${n.name}: ${what} → ${r.status} ${r.text.slice(0, 160)}`);
    }
    expect(wrong, label).toEqual([]);
  };

  it("its own price, balance, status and credit are its parent's (403)", async () => {
    await refusals("self-management", async (n) => [
      ["PUT own price", await setEntry(n.id, t.P, { price: 1 }, n.token)],
      ["PUT own discount", await setEntry(n.id, t.P, { discount_bps: 9000 }, n.token)],
      ["PUT own replenishment", await setEntry(n.id, t.P, { low_water: 1, refill: 100 }, n.token)],
      ["POST own balance", await topUp(n.id, 1_000_000, n.token)],
      [
        "PATCH own status suspended",
        await call("PATCH", `/v1/channels/${n.id}`, { status: "suspended" }, { token: n.token }),
      ],
      [
        "PATCH own status active",
        await call("PATCH", `/v1/channels/${n.id}`, { status: "active" }, { token: n.token }),
      ],
      [
        "PATCH own credit_limit",
        await call("PATCH", `/v1/channels/${n.id}`, { credit_limit: 1_000_000_000 }, { token: n.token }),
      ],
    ]);
    // What it may do to itself: rename, and let its children price below it.
    expect(
      (await call("PATCH", `/v1/channels/${t.A.id}`, { name: "Agent A (renamed)" }, { token: t.A.token })).json.name,
    ).toBe("Agent A (renamed)");
    expect((await setEntry(t.A.id, t.P, { allow_below: true }, t.A.token)).json).toMatchObject({
      allow_below: true,
      effective_price: 900,
    });
    expect(
      (await call("GET", `/v1/channels/${t.A.id}/balance`, undefined, { token: t.A.token })).json.balance,
    ).toBeLessThan(1_000_000);
  });

  it("its own quota is its parent's too (403, like its price and balance)", async () => {
    const before = await call("GET", `/v1/products/${t.P}/stock`);
    await refusals("self-allocation", async (n) => [
      ["POST own quota +", await allocate(t.P, n.id, 5, n.token)],
      ["POST own quota −", await allocate(t.P, n.id, -1, n.token)],
    ]);
    // Refused either way: nothing moved.
    expect((await call("GET", `/v1/products/${t.P}/stock`)).json.allocations).toEqual(before.json.allocations);
  });

  it("root-only actions are 403 for channel keys", async () => {
    const code = (
      await ok(
        await call(
          "POST",
          "/v1/orders",
          { items: [{ product_id: t.R, quantity: 1 }] },
          { headers: { "idempotency-key": idemKey("void") } },
        ),
        "root order",
      )
    ).items[0].codes[0].code;
    await refusals("root-only", async (n) => [
      [
        "POST /v1/products",
        await call("POST", "/v1/products", { name: "x", kind: "code", price: 1, currency: "CNY" }, { token: n.token }),
      ],
      ["PATCH /v1/products/{P}", await call("PATCH", `/v1/products/${t.P}`, { price: 1 }, { token: n.token })],
      [
        "POST batches (generate)",
        await call("POST", `/v1/products/${t.P}/batches`, { generate: { count: 1 } }, { token: n.token }),
      ],
      [
        "POST batches (csv)",
        await call("POST", `/v1/products/${t.P}/batches`, undefined, {
          token: n.token,
          raw: "code\nISOLATION0001\n",
          headers: { "content-type": "text/csv" },
        }),
      ],
      ["POST /v1/codes/void", await call("POST", "/v1/codes/void", { code, reason: "x" }, { token: n.token })],
    ]);
    expect((await call("POST", "/v1/codes/verify", { code })).json.status).toBe("issued");
  });

  it("a key never holds more scopes than its channel may, nor more than the key that makes it", async () => {
    expect((await newKey(t.A.id)).scopes.sort()).toEqual([...CHANNEL_SCOPES].sort());
    for (const [token, channel] of [
      [undefined, t.A.id],
      [t.A.token, t.A.id],
      [t.A.token, t.A1.id],
      [t.A1.token, t.A1.id],
    ] as const) {
      for (const scopes of [["products:write"], ["codes:write"], ["orders:read", "codes:write"]]) {
        const res = await call("POST", `/v1/channels/${channel}/keys`, { scopes }, { token });
        expect(res.status, `${scopes} for ${channel}: ${res.text}`).toBe(403);
        expect(res.json.error.code).toBe("forbidden");
      }
    }
    const limited = await newKey(t.A.id, { scopes: ["keys:write", "channels:read"] });
    const more = await call(
      "POST",
      `/v1/channels/${t.A1.id}/keys`,
      { scopes: ["orders:write"] },
      { token: limited.secret },
    );
    expect(more.status).toBe(403);
    const dflt = await newKey(t.A1.id, {}, limited.secret);
    expect(dflt.scopes.sort()).toEqual(["channels:read", "keys:write"]);
  });
});

describe("suspension", () => {
  const buy = (n: Node) => orderAs(n.token, t.P, 1, idemKey(`susp-${n.name}`));

  it("a parent suspends a channel: it and its whole subtree cannot order (403 channel_suspended); reactivation restores them", async () => {
    expect((await call("PATCH", `/v1/channels/${t.A.id}`, { status: "suspended" })).json.status).toBe("suspended");
    for (const n of [t.A, t.A1]) {
      const res = await buy(n);
      expect(res.status, `${n.name}: ${res.text}`).toBe(403);
      expect(res.json.error.code).toBe("channel_suspended");
    }
    expect((await buy(t.B)).status).toBe(201);
    expect((await call("PATCH", `/v1/channels/${t.A.id}`, { status: "active" }, { token: t.A1.token })).status).toBe(
      404,
    );
    expect((await call("PATCH", `/v1/channels/${t.A.id}`, { status: "active" }, { token: t.A.token })).status).toBe(
      403,
    );
    expect((await call("PATCH", `/v1/channels/${t.A.id}`, { status: "active" })).json.status).toBe("active");
    for (const n of [t.A, t.A1]) expect((await buy(n)).status, n.name).toBe(201);
  });

  it("an agent suspends its store with its own key; the agent itself keeps selling", async () => {
    expect(
      (await call("PATCH", `/v1/channels/${t.B1.id}`, { status: "suspended" }, { token: t.B.token })).json.status,
    ).toBe("suspended");
    const refused = await buy(t.B1);
    expect([refused.status, refused.json.error.code]).toEqual([403, "channel_suspended"]);
    expect((await buy(t.B)).status).toBe(201);
    expect((await call("PATCH", `/v1/channels/${t.B1.id}`, { status: "active" }, { token: t.B1.token })).status).toBe(
      403,
    );
    expect((await call("GET", `/v1/channels?status=suspended`, undefined, { token: t.A.token })).json.data).toEqual([]);
    expect(
      (await call("PATCH", `/v1/channels/${t.B1.id}`, { status: "active" }, { token: t.B.token })).json.status,
    ).toBe("active");
    expect((await buy(t.B1)).status).toBe(201);
  });
});

describe("depth", () => {
  it("channels nest at most 5 levels below the root (422 too_deep), whoever asks", async () => {
    let parent = await createChannel("Level 1", "agent");
    expect(parent.depth).toBe(1);
    const levelKeys: string[] = [];
    for (let level = 2; level <= 5; level++) {
      const key = (await newKey(parent.id)).secret;
      levelKeys.push(key);
      parent = await createChannel(`Level ${level}`, level === 5 ? "store" : "agent", undefined, key);
      expect(parent.depth).toBe(level);
      expect(parent.path).toHaveLength(level + 1);
    }
    const deepest = (await newKey(parent.id)).secret;
    for (const [who, res] of [
      ["the root", await call("POST", "/v1/channels", { name: "Level 6", type: "store", parent_id: parent.id })],
      [
        "an ancestor",
        await call(
          "POST",
          "/v1/channels",
          { name: "Level 6", type: "store", parent_id: parent.id },
          { token: levelKeys[0] },
        ),
      ],
      [
        "the level-5 channel",
        await call("POST", "/v1/channels", { name: "Level 6", type: "store" }, { token: deepest }),
      ],
    ] as const) {
      expect(res.status, `${who}: ${res.text}`).toBe(422);
      expect(res.json.error.code).toBe("too_deep");
    }
  });
});
