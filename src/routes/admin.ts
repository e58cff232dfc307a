/**
 * /v1/admin/reencrypt: after a code encryption key rotation, asks every product shard's SkuPool to
 * re-encrypt its codes under the current key (a background job on each pool's alarm), and reports
 * progress. Nothing secret crosses the RPC: each pool reads the keys from its own env.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { listProductShards } from "../db/products";
import type { AppEnv } from "../lib/context";
import { validationHook } from "../lib/validation";
import { skuPool } from "../objects/sku-pool";
import type { ReencryptStatus } from "../objects/sku-pool-reencrypt";
import { type Auth, requireRoot, requireScope } from "../security/auth";
import { requireSecrets } from "../security/secrets";
import { commonErrors, json } from "./schemas";

export const adminApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Admin"];
/** Pools asked at once, so a large catalog does not open thousands of RPCs together. */
const PARALLEL = 25;

const ProductProgress = z
  .object({
    product_id: z.string(),
    shards: z.number().int(),
    status: z
      .enum(["idle", "running", "completed", "failed"])
      .openapi({ description: "running while any shard runs; failed if any shard failed" }),
    remaining: z.number().int().openapi({ description: "Codes still sealed under an old key id" }),
    reencrypted: z.number().int(),
    by_key_id: z.record(z.string(), z.number().int()),
    errors: z.array(z.string()),
  })
  .openapi("ReencryptProductProgress");

const Progress = z
  .object({
    object: z.literal("reencryption"),
    current_key_id: z.string(),
    remaining: z
      .number()
      .int()
      .openapi({ description: "Codes still under old key ids, over all products; 0 when the old key may be removed" }),
    products: z.array(ProductProgress),
  })
  .openapi("ReencryptProgress");

function guard(auth: Auth): void {
  requireScope(auth, "codes:write");
  requireRoot(auth);
}

async function overProducts(env: Env, ask: (ref: { productId: string; shard: number }) => Promise<ReencryptStatus>) {
  const products = await listProductShards(env.DB);
  const refs = products.flatMap((p) =>
    Array.from({ length: Math.max(1, p.shards) }, (_, shard) => ({ productId: p.id, shard })),
  );
  const answers: ReencryptStatus[] = [];
  for (let i = 0; i < refs.length; i += PARALLEL)
    answers.push(...(await Promise.all(refs.slice(i, i + PARALLEL).map(ask))));
  const out = new Map<string, z.infer<typeof ProductProgress>>();
  refs.forEach((ref, i) => {
    const a = answers[i];
    const p = out.get(ref.productId) ?? {
      product_id: ref.productId,
      shards: 0,
      status: "idle" as const,
      remaining: 0,
      reencrypted: 0,
      by_key_id: {},
      errors: [],
    };
    p.shards += 1;
    p.remaining += a.remaining;
    p.reencrypted += a.reencrypted;
    for (const [k, n] of Object.entries(a.by_key_id)) p.by_key_id[k] = (p.by_key_id[k] ?? 0) + n;
    if (a.error) p.errors.push(a.error);
    const rank = { idle: 0, completed: 1, running: 2, failed: 3 } as const;
    if (rank[a.status] > rank[p.status]) p.status = a.status;
    out.set(ref.productId, p);
  });
  const list = [...out.values()];
  return {
    object: "reencryption" as const,
    current_key_id: requireSecrets(env).encryptionKeyId,
    remaining: list.reduce((s, p) => s + p.remaining, 0),
    products: list,
  };
}

adminApp.openapi(
  createRoute({
    method: "post",
    path: "/admin/reencrypt",
    tags,
    summary: "Re-encrypt every stored code under the current encryption key (background job per product shard)",
    responses: { 202: json(Progress, "The job started on every shard; progress as of now"), ...commonErrors },
  }),
  async (c) => {
    guard(c.get("auth"));
    return c.json(await overProducts(c.env, (ref) => skuPool(c.env, ref).startReencrypt(ref)), 202);
  },
);

adminApp.openapi(
  createRoute({
    method: "get",
    path: "/admin/reencrypt",
    tags,
    summary: "Progress of the re-encryption: codes still under old key ids, per product",
    responses: { 200: json(Progress, "Progress per product"), ...commonErrors },
  }),
  async (c) => {
    guard(c.get("auth"));
    return c.json(await overProducts(c.env, (ref) => skuPool(c.env, ref).reencryptStatus(ref)), 200);
  },
);
