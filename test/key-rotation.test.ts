/**
 * Rotation of the code encryption key (CODE_ENCRYPTION_KEY + CODE_ENCRYPTION_KEY_ID, old keys in
 * CODE_ENCRYPTION_KEYS_OLD) and the re-encryption job.
 *
 * How this is tested, and why: the Durable Objects always run with the bindings of vitest.config.ts
 * (one key, "k1"), and that env cannot be changed per test. The Worker's env can (worker.fetch with
 * a custom env, as in config.test.ts). So:
 * - Worker-side behaviour (secret validation, new codes sealed under the current key) goes through
 *   worker.fetch with an env where "k2" is current and the original key is listed as old "k1";
 * - SkuPool-side behaviour (reveal under old keys, the re-encryption job) runs inside the real pool
 *   through runInDurableObject, calling the very functions the pool calls (revealLine,
 *   startReencrypt, advanceReencrypt from src/objects/sku-pool-reencrypt.ts) with the rotated keys
 *   built here. The pool itself only adds reading those keys from its own env;
 * - the routes POST/GET /v1/admin/reencrypt and the pool's alarm run end to end with the real env,
 *   where every code is already under the current key, so the job completes at once.
 */

import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { type PoolRef, skuPool } from "../src/objects/sku-pool";
import { advanceReencrypt, readJob, revealLine, startReencrypt } from "../src/objects/sku-pool-reencrypt";
import { type CodeKeys, codeKeys, unseal } from "../src/security/code-crypto";
import { base64urlEncode, readSecrets, requireSecrets } from "../src/security/secrets";
import { call, createProduct, eventually, generate } from "./helpers";

const NEW_KEY = base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
const rotatedEnv = {
  ...env,
  CODE_ENCRYPTION_KEY: NEW_KEY,
  CODE_ENCRYPTION_KEY_ID: "k2",
  CODE_ENCRYPTION_KEYS_OLD: `k1:${env.CODE_ENCRYPTION_KEY}`,
} as Env;
const rotatedKeys = () => codeKeys(requireSecrets(rotatedEnv));
const none = { type: "none" } as const;

async function fetchWith(customEnv: Env, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://ve.test${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    customEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: res.status, json: (await res.json()) as any };
}

type Row = { id: number; idx: string; sealed: string; key_id: string };
const rowsOf = (sql: SqlStorage) => sql.exec<Row>("SELECT id, idx, sealed, key_id FROM codes ORDER BY id").toArray();
async function openAll(keys: CodeKeys, rows: Row[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of rows) out.set(r.idx, JSON.stringify(await unseal(keys, r.idx, r.sealed, r.key_id)));
  return out;
}
const keyCounts = (rows: Row[]) =>
  rows.reduce<Record<string, number>>((m, r) => {
    m[r.key_id] = (m[r.key_id] ?? 0) + 1;
    return m;
  }, {});

describe("code encryption key rotation", () => {
  it("re-encrypts through the admin routes and the pool's alarm (real env: already current)", async () => {
    const p = await createProduct();
    await generate(p.id, 20);
    const ref: PoolRef = { productId: p.id, shard: 0 };
    const started = await call("POST", "/v1/admin/reencrypt");
    expect(started.status).toBe(202);
    expect(started.json.current_key_id).toBe("k1");
    expect(started.json.products.find((x: any) => x.product_id === p.id)).toMatchObject({
      shards: 1,
      remaining: 0,
      by_key_id: { k1: 20 },
    });
    // The pool's alarm runs the job (its own run may be under way: nudge and poll until it is done).
    const progress = await eventually(
      async () => {
        await runDurableObjectAlarm(skuPool(env, ref));
        return call("GET", "/v1/admin/reencrypt");
      },
      (r) => r.json?.products?.find((x: any) => x.product_id === p.id)?.status !== "running",
    );
    expect(progress.status).toBe(200);
    expect(progress.json.products.find((x: any) => x.product_id === p.id)).toMatchObject({
      status: "completed",
      remaining: 0,
      errors: [],
    });

    const reader = await call("POST", "/v1/channels/chn_root/keys", { name: "reader", scopes: ["products:read"] });
    expect((await call("GET", "/v1/admin/reencrypt", undefined, { token: reader.json.secret })).status).toBe(403);
  });

  it("answers 503 misconfigured naming CODE_ENCRYPTION_KEYS_OLD when it is malformed", async () => {
    const key = env.CODE_ENCRYPTION_KEY;
    for (const bad of ["nocolon", "k0:short", `k0:${key},k0:${key}`, `k1:${key}`, `k0:${key},`, `bad id:${key}`]) {
      const res = await fetchWith({ ...env, CODE_ENCRYPTION_KEYS_OLD: bad } as Env, "GET", "/v1/products");
      expect(res.status, bad).toBe(503);
      expect(res.json.error.code).toBe("misconfigured");
      expect(res.json.error.message).toContain("CODE_ENCRYPTION_KEYS_OLD");
      expect(res.json.error.message).not.toContain(key);
    }
    expect((await fetchWith(rotatedEnv, "GET", "/v1/products")).status).toBe(200);
    const secrets = readSecrets(rotatedEnv);
    expect(secrets.ok && secrets.secrets.oldEncryptionKeys.map((k) => k.id)).toEqual(["k1"]);
    expect([...(await rotatedKeys()).sealKeys.keys()].sort()).toEqual(["k1", "k2"]);
  });

  it("reads k1 codes under k2, seals new codes under k2, and re-encrypts everything idempotently", async () => {
    const tag = Math.random().toString(36).slice(2, 8).toUpperCase();
    const oldPlain = Array.from({ length: 30 }, (_, i) => `ROTOLD${tag}X${i}`);
    const newPlain = Array.from({ length: 20 }, (_, i) => `ROTNEW${tag}X${i}`);
    const p = await createProduct();
    expect(
      (await call("POST", `/v1/products/${p.id}/batches`, { import: { codes: oldPlain.map((code) => ({ code })) } }))
        .status,
    ).toBe(201);
    await generate(p.id, 420); // k1, under the real env
    const ref: PoolRef = { productId: p.id, shard: 0 };
    const stub = skuPool(env, ref);
    const issued = await stub.issue(ref, {
      orderId: "ord_rot1",
      line: 0,
      quantity: 5,
      channelId: "chn_root",
      validity: none,
    });
    expect(issued.ok).toBe(true);

    // (2) New codes, sealed by a Worker whose current key is k2.
    const imported = await fetchWith(rotatedEnv, "POST", `/v1/products/${p.id}/batches`, {
      import: { codes: newPlain.map((code) => ({ code })) },
    });
    expect(imported.status).toBe(201);
    // No alarm of the pool (real env: k1 current) may run the job between the steps below.
    await runDurableObjectAlarm(stub);

    const result = await runInDurableObject(stub, async (_o, state) => {
      const sql = state.storage.sql;
      const k2 = await rotatedKeys();
      const k1only = await codeKeys(requireSecrets(env));
      const before = rowsOf(sql);
      const countsBefore = keyCounts(before);
      // (1) Codes sealed under k1 are revealed with k2 current and k1 old; k2 codes need k2.
      const revealed = await revealLine(sql, k2, "ord_rot1", 0);
      const plainBefore = await openAll(k2, before);
      const k2Row = before.find((r) => r.key_id === "k2")!;
      const unknown = await unseal(k1only, k2Row.idx, k2Row.sealed, k2Row.key_id).then(
        () => "opened",
        (e: Error) => e.message,
      );

      // (3) The job, one small chunk per round (budget 0: one slice of 200), reads working mid-way.
      startReencrypt(sql, Date.now());
      let rounds = 0;
      let midway: Record<string, number> | null = null;
      while (await advanceReencrypt(sql, `sku:${ref.productId}:0`, k2, 0, ref)) {
        rounds++;
        if (!midway) {
          midway = keyCounts(rowsOf(sql));
          expect(await openAll(k2, rowsOf(sql))).toEqual(plainBefore);
        }
      }
      const after = rowsOf(sql);
      const job = readJob(sql);
      const events = sql
        .exec<{ type: string; body: string }>("SELECT type, body FROM outbox WHERE type = 'codes.reencrypted'")
        .toArray();
      const plainAfter = await openAll(k2, after);
      const changedSealed = after.filter((r, i) => r.sealed !== before[i].sealed).length;

      // Idempotent: a second run finds nothing to do and changes nothing.
      startReencrypt(sql, Date.now());
      const again = await advanceReencrypt(sql, `sku:${ref.productId}:0`, k2, 1_000, ref);
      const afterAgain = rowsOf(sql);
      const dump = sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
        )
        .toArray()
        .map((t) => JSON.stringify(sql.exec(`SELECT * FROM "${t.name}"`).toArray()))
        .join("");
      return {
        countsBefore,
        revealed,
        plainBefore: [...plainBefore.values()],
        unknown,
        rounds,
        midway,
        countsAfter: keyCounts(after),
        sameSecrets: JSON.stringify([...plainAfter]) === JSON.stringify([...plainBefore]),
        changedSealed,
        job,
        events: events.map((e) => JSON.parse(e.body).data),
        again,
        unchanged: JSON.stringify(afterAgain) === JSON.stringify(after),
        jobAgain: readJob(sql),
        dump,
      };
    });

    expect(result.countsBefore).toEqual({ k1: 450, k2: 20 });
    expect(result.revealed).toEqual(issued.ok && issued.codes);
    const opened = result.plainBefore.map((s) => JSON.parse(s).c as string);
    for (const c of [...oldPlain, ...newPlain]) expect(opened).toContain(c);
    expect(result.unknown).toContain("k2 is not configured");

    expect(result.rounds).toBeGreaterThanOrEqual(2);
    expect(result.midway!.k2).toBeGreaterThan(20);
    expect(result.midway!.k1).toBeGreaterThan(0);
    expect(result.countsAfter).toEqual({ k2: 470 });
    expect(result.sameSecrets).toBe(true);
    expect(result.changedSealed).toBe(450);
    expect(result.job).toMatchObject({ status: "completed", reencrypted: 450 });
    expect(result.events).toContainEqual(expect.objectContaining({ product_id: p.id, key_id: "k2", count: 450 }));
    expect(result.again).toBe(false);
    expect(result.unchanged).toBe(true);
    expect(result.jobAgain).toMatchObject({ status: "completed", reencrypted: 0 });

    // (5) Still no plaintext at rest in the pool after re-encryption.
    for (const c of [...oldPlain, ...newPlain, ...(issued.ok ? issued.codes.map((x) => x.code) : [])])
      expect(result.dump.includes(c), c).toBe(false);
  });

  it("fails the job, not the alarm, when a code's key id is no longer configured", async () => {
    const p = await createProduct();
    await fetchWith(rotatedEnv, "POST", `/v1/products/${p.id}/batches`, { generate: { count: 5 } });
    const ref: PoolRef = { productId: p.id, shard: 0 };
    const stub = skuPool(env, ref);
    // The pool's own env knows k1 only: the k2 codes cannot be opened, so its job must fail cleanly.
    await stub.startReencrypt(ref);
    const status = await eventually(
      async () => {
        await runDurableObjectAlarm(stub);
        return stub.reencryptStatus(ref);
      },
      (s) => s.status !== "running",
    );
    expect(status).toMatchObject({ status: "failed", remaining: 5, by_key_id: { k2: 5 } });
    expect(status.error).toContain("k2 is not configured");
  });
});
