/**
 * How fast a revoked key stops working in an isolate that has it cached (another isolate revoked it,
 * so nobody cleared this cache): served fresh for KEY_FRESH_MS, then still served once while D1 is
 * re-read in the background, refused as soon as that read lands. The clock is passed in, so no waiting.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ROOT_CHANNEL_ID } from "../src/domain/ids";
import { authenticate, KEY_FRESH_MS } from "../src/security/auth";
import { sha256Hex } from "../src/security/primitives";
import { keyFor } from "./channel-fixtures";

/** Collects the background work a request would hand to waitUntil. */
function backgroundWork() {
  const pending: Promise<unknown>[] = [];
  return { waitUntil: (p: Promise<unknown>) => pending.push(p), pending, settle: () => Promise.all(pending) };
}
/** Revokes the key in D1 only, as another isolate's revoke does: this isolate's cache is not cleared. */
const revokeElsewhere = async (token: string) =>
  env.DB.prepare("UPDATE api_keys SET revoked_at = ?1 WHERE hash = ?2")
    .bind(Date.now(), await sha256Hex(token))
    .run();

describe("revocation reaches a cached key", () => {
  it("within KEY_FRESH_MS plus one background D1 read, with no D1 read on the request path", async () => {
    const token = await keyFor(ROOT_CHANNEL_ID);
    const bg = backgroundWork();
    const t0 = Date.now();
    expect(await authenticate(env, token, t0, bg.waitUntil)).not.toBeNull();
    await revokeElsewhere(token);
    expect(await authenticate(env, token, t0 + KEY_FRESH_MS - 1, bg.waitUntil)).not.toBeNull();
    expect(bg.pending).toHaveLength(0); // fresh: nothing re-read
    expect(await authenticate(env, token, t0 + KEY_FRESH_MS, bg.waitUntil)).not.toBeNull(); // served, re-read started
    expect(await authenticate(env, token, t0 + KEY_FRESH_MS + 5, bg.waitUntil)).not.toBeNull();
    expect(bg.pending).toHaveLength(1); // one re-read at a time
    await bg.settle();
    expect(await authenticate(env, token, t0 + KEY_FRESH_MS + 10, bg.waitUntil)).toBeNull();
  });

  it("an entry older than the cache lifetime is read before answering", async () => {
    const token = await keyFor(ROOT_CHANNEL_ID);
    const bg = backgroundWork();
    const t0 = Date.now();
    expect(await authenticate(env, token, t0, bg.waitUntil)).not.toBeNull();
    await revokeElsewhere(token);
    expect(await authenticate(env, token, t0 + 30_000, bg.waitUntil)).toBeNull();
    expect(bg.pending).toHaveLength(0);
  });
});
