/** The credential cache both key kinds use (security/refreshing-cache.ts), with an injected clock. */
import { describe, expect, it } from "vitest";
import { RefreshingCache } from "../src/security/refreshing-cache";

function harness() {
  let value = "v1";
  let reads = 0;
  const pending: Promise<unknown>[] = [];
  const load = async () => {
    reads++;
    return value;
  };
  return {
    set: (v: string) => {
      value = v;
    },
    reads: () => reads,
    load,
    waitUntil: (p: Promise<unknown>) => pending.push(p),
    pending,
  };
}

describe("RefreshingCache", () => {
  it("serves fresh entries, re-reads stale ones in the background once, and waits only past the lifetime", async () => {
    const cache = new RefreshingCache<string>(1_000, 30_000);
    const h = harness();
    expect(await cache.get("k", 0, h.load, h.waitUntil)).toBe("v1");
    h.set("v2");
    expect(await cache.get("k", 999, h.load, h.waitUntil)).toBe("v1");
    expect([h.reads(), h.pending.length]).toEqual([1, 0]);
    // A re-read that takes a while (D1 far away): held open until released.
    let release = () => {};
    const slow = () => new Promise<string>((resolve) => (release = () => resolve("v2")));
    expect(await cache.get("k", 1_000, slow, h.waitUntil)).toBe("v1"); // stale: served, re-read started
    expect(await cache.get("k", 1_001, slow, h.waitUntil)).toBe("v1"); // no second re-read meanwhile
    expect(h.pending).toHaveLength(1);
    release();
    await Promise.all(h.pending);
    expect(await cache.get("k", 1_002, h.load, h.waitUntil)).toBe("v2");
    h.set("v3");
    expect(await cache.get("k", 40_000, h.load, h.waitUntil)).toBe("v3"); // past the lifetime: read first
    expect(h.reads()).toBe(2);
  });

  it("reads at once when the entry is not usable, and keeps the entry when a re-read fails", async () => {
    const cache = new RefreshingCache<string>(1_000, 30_000);
    const h = harness();
    await cache.get("k", 0, h.load, h.waitUntil);
    h.set("v2");
    expect(await cache.get("k", 10, h.load, h.waitUntil, (v) => v !== "v1")).toBe("v2");
    const failing = async (): Promise<string> => {
      throw new Error("D1 unavailable");
    };
    expect(await cache.get("k", 2_000, failing, h.waitUntil)).toBe("v2");
    await Promise.all(h.pending);
    expect(await cache.get("k", 2_001, h.load, h.waitUntil)).toBe("v2"); // still cached; a new re-read runs
    expect(h.pending).toHaveLength(2);
  });
});
