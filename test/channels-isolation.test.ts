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
 *
 * The tree: isolation-fixtures.ts; the probes: isolation-probe-fixtures.ts. What a parent sees and manages:
 * channels-subtree.test.ts; what a channel may not do: channels-self-management.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "./helpers";
import { buildTree, t } from "./isolation-fixtures";
import {
  batchProbes,
  callers,
  channelProbes,
  keyProbes,
  names,
  orderProbes,
  outside,
  probe,
  productProbes,
  redemptionProbes,
} from "./isolation-probe-fixtures";

beforeAll(buildTree);

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
