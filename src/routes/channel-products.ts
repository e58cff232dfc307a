/**
 * A channel's product pool, price list and replenishment rule:
 * PUT /v1/channels/{id}/products/{product_id}. Its parent (any ancestor) sets everything;
 * the channel itself may only allow its own children to price below it.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { type ChannelProductEntry, getEntry, priceChains, upsertEntry } from "../db/channels";
import { getProduct } from "../db/products";
import { parentOf } from "../domain/channels";
import { effectivePrice, type PriceEntry, priceAllowed } from "../domain/pricing";
import { visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { ApiError, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { skuPool } from "../objects/sku-pool";
import { requireScope } from "../security/auth";
import { commonErrors, errorResponses, idParam, json, jsonBody, Money } from "./schemas";

export const channelProductsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Channels"];

const EntryBody = z
  .object({
    enabled: z.boolean(),
    price: Money.nullable().optional().openapi({ description: "Fixed price for this channel" }),
    discount_bps: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .nullable()
      .optional()
      .openapi({ description: "Or a discount off the parent's effective price, in basis points" }),
    allow_below: z
      .boolean()
      .optional()
      .openapi({ description: "Let this channel's children be priced below this channel's price" }),
    low_water: z.number().int().min(0).max(1_000_000).nullable().optional(),
    refill: z.number().int().min(1).max(1_000_000).nullable().optional(),
  })
  .strict()
  .refine((b) => b.price == null || b.discount_bps == null, "send price or discount_bps, not both")
  .refine((b) => (b.low_water == null) === (b.refill == null), "low_water and refill go together")
  .openapi("ChannelProduct");

const EntrySchema = z
  .object({
    object: z.literal("channel_product"),
    channel_id: z.string(),
    product_id: z.string(),
    enabled: z.boolean(),
    price: z.number().nullable(),
    discount_bps: z.number().nullable(),
    allow_below: z.boolean(),
    low_water: z.number().nullable(),
    refill: z.number().nullable(),
    effective_price: z
      .number()
      .nullable()
      .openapi({ description: "What the channel pays per unit; null when not sellable" }),
  })
  .openapi("ChannelProductView");

channelProductsApp.openapi(
  createRoute({
    method: "put",
    path: "/channels/{id}/products/{product_id}",
    tags,
    summary: "Enable a product for a channel and set its price and replenishment",
    request: { params: idParam("chn").merge(idParam("prd", "product_id")), body: jsonBody(EntryBody) },
    responses: { 200: json(EntrySchema, "The entry"), ...commonErrors, ...errorResponses(422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:write");
    const { id, product_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const channel = await visibleChannel(c.env.DB, auth, id);
    if (channel.parent_id === null)
      throw unprocessable("root_channel", "the merchant sells every product at list price");
    const product = await getProduct(c.env.DB, product_id);
    // A product the caller does not sell itself answers like an unknown one.
    const callerSells =
      product &&
      (auth.root ||
        effectivePrice(product.price, (await priceChains(c.env.DB, auth.path, [product_id])).get(product_id)!).ok);
    if (!product || !callerSells) throw notFound("product");
    const current = await getEntry(c.env.DB, id, product_id);
    const self = channel.id === auth.channelId;
    if (self && Object.keys(body).some((k) => k !== "allow_below" && k !== "enabled")) {
      throw new ApiError(
        403,
        "forbidden",
        "a channel may only set allow_below on its own entry; its parent sets the rest",
      );
    }
    const entry: ChannelProductEntry = self
      ? { ...(current ?? blank(id, product_id)), allow_below: body.allow_below ?? current?.allow_below ?? false }
      : {
          channel_id: id,
          product_id,
          enabled: body.enabled,
          price: body.price ?? null,
          discount_bps: body.discount_bps ?? null,
          allow_below: body.allow_below ?? current?.allow_below ?? false,
          low_water: body.low_water ?? null,
          refill: body.refill ?? null,
        };
    if (self && !current) throw unprocessable("not_in_pool", "this product is not in the channel's pool");

    // The parent must sell the product itself, and may refuse a child price below its own.
    const chain = (await priceChains(c.env.DB, channel.path, [product_id])).get(product_id)!;
    const parentChain = chain.slice(0, -1);
    const parentPrice = effectivePrice(product.price, parentChain);
    if (!parentPrice.ok) throw unprocessable("parent_not_in_pool", "the parent channel does not sell this product");
    const mine = effectivePrice(product.price, [...parentChain, entry as PriceEntry]);
    const parentAllows = parentChain.length === 0 || (parentChain[parentChain.length - 1]?.allow_below ?? false);
    if (entry.enabled && mine.ok && !priceAllowed(mine.price, parentPrice.price, parentAllows)) {
      throw unprocessable(
        "price_below_parent",
        `the parent pays ${parentPrice.price}; pricing this channel below it needs the parent's allow_below`,
        { parent_price: parentPrice.price },
      );
    }
    await upsertEntry(c.env.DB, entry);
    if (!self && (entry.low_water !== current?.low_water || entry.refill !== current?.refill)) {
      const ref = { id, parentId: parentOf(channel.path)!, path: channel.path };
      await Promise.all(
        Array.from({ length: product.shards }, (_, shard) =>
          skuPool(c.env, { productId: product_id, shard }).configureChannel(
            { productId: product_id, shard },
            ref,
            entry.low_water,
            entry.refill,
          ),
        ),
      );
    }
    return c.json(
      { object: "channel_product" as const, ...entry, effective_price: entry.enabled && mine.ok ? mine.price : null },
      200,
    );
  },
);

function blank(channel_id: string, product_id: string): ChannelProductEntry {
  return {
    channel_id,
    product_id,
    enabled: false,
    price: null,
    discount_bps: null,
    allow_below: false,
    low_water: null,
    refill: null,
  };
}
