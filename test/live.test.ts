/**
 * GET /v1/live: a console's WebSocket hears "changed" within moments of an order in its subtree, never a
 * number, and never about a sibling's orders; a foreign Origin and a plain GET are refused.
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index";
import type { LiveMessage } from "../src/objects/live-hub";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, generate } from "./helpers";
import { eventsDrained } from "./pipeline-fixtures";

let productId: string;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  const p = await call("POST", "/v1/products", { name: "Live card", price: 300, currency: "CNY" });
  productId = p.json.id;
  await generate(productId, 20);
  const a = await createChannel("Live store A", "store");
  const b = await createChannel("Live store B", "store");
  for (const ch of [a, b]) {
    await setEntry(ch.id, productId, {});
    await allocate(productId, ch.id, 10);
    await topUp(ch.id, 10_000);
  }
  tokenA = await keyFor(a.id);
  tokenB = await keyFor(b.id);
  await eventsDrained(); // the set-up's own events (top-ups, quotas) are not what the test listens for
});

async function open(token: string, headers: Record<string, string> = {}) {
  const res = await worker.fetch(
    new Request("http://ve.test/v1/live", {
      headers: { upgrade: "websocket", authorization: `Bearer ${token}`, ...headers },
    }),
    env,
    createExecutionContext(),
  );
  return res;
}

/** An open socket and the messages it has received so far. */
async function listen(token: string) {
  const res = await open(token);
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const messages: LiveMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.accept();
  ws.addEventListener("message", (e) => {
    messages.push(JSON.parse(e.data as string));
    for (const w of waiters.splice(0)) w();
  });
  const next = (pred: (m: LiveMessage) => boolean) =>
    new Promise<LiveMessage>((resolve) => {
      const check = () => {
        const hit = messages.find(pred);
        if (hit) resolve(hit);
        else waiters.push(check);
      };
      check();
    });
  return { ws, messages, next };
}

describe("live updates", () => {
  it("tells a console about its own subtree's orders and nothing of a sibling's", async () => {
    const a = await listen(tokenA);
    const b = await listen(tokenB);
    await a.next((m) => m.type === "hello");
    await b.next((m) => m.type === "hello");
    expect((await orderAs(tokenA, productId, 1)).status).toBe(201);
    const changed = await a.next((m) => m.type === "changed");
    expect(changed).toMatchObject({ v: 1, type: "changed" });
    expect(changed.topics).toContain("orders");
    // The message carries no number, no id, no name.
    expect(Object.keys(changed).sort()).toEqual(["at", "topics", "type", "v"]);
    // Everything the order caused has been through the consumer (and its notices sent): B heard nothing.
    await eventsDrained();
    expect(b.messages.filter((m) => m.type === "changed")).toHaveLength(0);
    a.ws.close(1000);
    b.ws.close(1000);
  });

  it("refuses a foreign origin, a plain GET and a missing key", async () => {
    const foreign = await open(tokenA, { origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect((await foreign.json<{ error: { code: string } }>()).error.code).toBe("forbidden_origin");
    const plain = await call("GET", "/v1/live", undefined, { token: tokenA });
    expect(plain.status).toBe(426);
    expect(plain.json.error.code).toBe("upgrade_required");
    expect((await call("GET", "/v1/live", undefined, { token: null })).status).toBe(401);
  });
});
