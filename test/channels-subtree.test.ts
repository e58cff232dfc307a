/**
 * Channel isolation from above: a parent reads and manages its descendants, and every list (channels, orders,
 * products, stock, summaries) stays inside the caller's subtree. The tree: isolation-fixtures.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT_CHANNEL_ID } from "../src/domain/ids";
import { allocate, setEntry, topUp } from "./channel-fixtures";
import { call, eventually } from "./helpers";
import { buildTree, type Node, t } from "./isolation-fixtures";

beforeAll(buildTree);

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
