/**
 * POST /v1/products/{id}/allocations: move quota from the caller's channel (the root: from
 * unallocated stock) to a direct child; a negative quantity takes it back. Each pool shard
 * moves atomically; over several shards a failed shard undoes the shards already moved.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { priceChains } from "../db/channels";
import { getProduct } from "../db/products";
import { ROOT_CHANNEL_ID } from "../domain/ids";
import { effectivePrice } from "../domain/pricing";
import { visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { ApiError, conflict, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { type PoolRef, skuPool } from "../objects/sku-pool";
import { requireScope } from "../security/auth";
import { commonErrors, errorResponses, idParam, json, jsonBody } from "./schemas";

export const allocationsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const AllocationBody = z
  .object({
    channel_id: z.string().regex(/^chn_[a-z0-9]{1,40}$/),
    quantity: z
      .number()
      .int()
      .min(-1_000_000)
      .max(1_000_000)
      .refine((q) => q !== 0, "quantity must not be 0"),
  })
  .strict()
  .openapi("AllocationMove");

const AllocationResult = z
  .object({
    object: z.literal("allocation"),
    product_id: z.string(),
    channel_id: z.string(),
    quota: z.number(),
    source_quota: z.number().nullable(),
    unallocated: z.number().nullable(),
  })
  .openapi("Allocation");

allocationsApp.openapi(
  createRoute({
    method: "post",
    path: "/products/{id}/allocations",
    tags: ["Channels"],
    summary: "Move quota to (or back from) a direct child channel",
    request: { params: idParam("prd"), body: jsonBody(AllocationBody) },
    responses: { 200: json(AllocationResult, "Quotas after the move"), ...commonErrors, ...errorResponses(409, 422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:write");
    const body = c.req.valid("json");
    const product = await getProduct(c.env.DB, c.req.valid("param").id);
    const child = await visibleChannel(c.env.DB, auth, body.channel_id);
    if (child.id === auth.channelId) throw new ApiError(403, "forbidden", "a channel's quota is moved by its parent");
    if (child.parent_id !== auth.channelId)
      throw unprocessable("not_a_child", "quota moves only between a channel and its direct children");
    if (!product) throw notFound("product");
    if (!auth.root) {
      const mine = effectivePrice(
        product.price,
        (await priceChains(c.env.DB, auth.path, [product.id])).get(product.id)!,
      );
      if (!mine.ok) throw notFound("product");
    }
    if (body.quantity > 0) {
      const theirs = effectivePrice(
        product.price,
        (await priceChains(c.env.DB, child.path, [product.id])).get(product.id)!,
      );
      if (!theirs.ok)
        throw unprocessable(
          "not_in_pool",
          "enable the product for the channel first (PUT /v1/channels/{id}/products/{product_id})",
        );
    }
    const channel = { id: child.id, parentId: child.parent_id, path: child.path };
    const refs: PoolRef[] = Array.from({ length: product.shards }, (_, shard) => ({ productId: product.id, shard }));
    // How much each shard can give: unallocated or the parent's quota going down, the child's quota coming back.
    const giverPath = body.quantity > 0 ? auth.path : child.path;
    const giverId = body.quantity > 0 ? auth.channelId : child.id;
    const views = await Promise.all(refs.map((ref) => skuPool(c.env, ref).allocations(ref, giverPath)));
    const can = views.map((v) =>
      giverId === ROOT_CHANNEL_ID
        ? Math.max(0, v.unallocated)
        : (v.allocations.find((a) => a.channel_id === giverId)?.quota ?? 0),
    );
    const sign = Math.sign(body.quantity);
    let left = Math.abs(body.quantity);
    const plan = can.map((n) => {
      const take = Math.min(n, left);
      left -= take;
      return take;
    });
    if (left > 0)
      throw conflict("insufficient_quota", "not enough quota or unallocated stock to move", {
        available: can.reduce((a, b) => a + b, 0),
      });
    const done: { ref: PoolRef; n: number }[] = [];
    for (const [i, n] of plan.entries()) {
      if (n === 0) continue;
      const result = await skuPool(c.env, refs[i]).allocate(refs[i], channel, sign * n);
      if (!result.ok) {
        await Promise.all(done.map((d) => skuPool(c.env, d.ref).allocate(d.ref, channel, -sign * d.n)));
        throw conflict("insufficient_quota", "the quota changed meanwhile; nothing was moved", {
          available: result.available,
        });
      }
      done.push({ ref: refs[i], n });
    }
    const after = await Promise.all(refs.map((ref) => skuPool(c.env, ref).allocations(ref, auth.path)));
    const quotaOf = (id: string) =>
      after.reduce((sum, v) => sum + (v.allocations.find((a) => a.channel_id === id)?.quota ?? 0), 0);
    const totals = {
      quota: quotaOf(child.id),
      source: quotaOf(auth.channelId),
      unallocated: after.reduce((sum, v) => sum + v.unallocated, 0),
    };
    return c.json(
      {
        object: "allocation" as const,
        product_id: product.id,
        channel_id: child.id,
        quota: totals.quota,
        source_quota: child.parent_id === ROOT_CHANNEL_ID ? null : totals.source,
        unallocated: auth.root ? totals.unallocated : null,
      },
      200,
    );
  },
);
