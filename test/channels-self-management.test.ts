/**
 * What a channel may not do: manage itself (price, balance, status, credit, quota) or the merchant's work
 * (products, batches, voids, scopes beyond its own); suspension of a subtree; the depth limit. The tree:
 * isolation-fixtures.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { allocate, createChannel, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, idemKey } from "./helpers";
import { buildTree, CHANNEL_SCOPES, errorShape, type Node, newKey, ok, type Res, t } from "./isolation-fixtures";

beforeAll(buildTree);

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
