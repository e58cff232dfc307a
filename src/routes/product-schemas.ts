/** Product request and response schemas. */
import { z } from "@hono/zod-openapi";
import { Currency, IsoDate, Money } from "./schemas";

export const ProductKind = z
  .enum(["code", "card", "link", "topup"])
  .openapi({ description: "code: 兑换码; card: 卡号 + 卡密; link: claim URL; topup: 直充" });
export const ProductStatus = z.enum(["draft", "active", "paused", "archived"]);

export const ValiditySchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("none") }),
    z.object({
      type: z.literal("absolute"),
      starts_at: IsoDate.nullable().optional(),
      ends_at: IsoDate.nullable().optional(),
    }),
    z.object({ type: z.literal("relative"), days: z.number().int().min(1).max(3650) }),
  ])
  .refine(
    (v) => v.type !== "absolute" || !v.starts_at || !v.ends_at || Date.parse(v.starts_at) < Date.parse(v.ends_at),
    "starts_at must be before ends_at",
  )
  .openapi("Validity");

const Count = z.number().int().min(1).max(1_000_000);

export const LimitsSchema = z
  .object({
    per_order_max: Count.nullable().optional(),
    per_customer_max: Count.nullable().optional(),
    per_customer_window_days: z.number().int().min(1).max(3650).nullable().optional(),
  })
  .strict()
  .openapi("PurchaseLimits");

const Metadata = z
  .record(z.string().max(40), z.string().max(500))
  .refine((m) => Object.keys(m).length <= 20, "at most 20 metadata keys");
const ClaimUrl = z
  .string()
  .url()
  .max(500)
  .refine((u) => u.includes("{code}"), "must contain {code}");

export const ProductCreate = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ example: "VIP 30 days" }),
    kind: ProductKind.default("code"),
    description: z.string().max(2000).optional(),
    face_value: Money.optional(),
    price: Money,
    currency: Currency,
    validity: ValiditySchema.default({ type: "none" }),
    limits: LimitsSchema.default({}),
    reversal_window_hours: z
      .number()
      .int()
      .min(0)
      .max(720)
      .optional()
      .openapi({ description: "How long a redemption can be reversed (default 24)" }),
    claim_url_template: ClaimUrl.optional().openapi({
      description: "For link products, e.g. https://shop.example/claim?c={code}",
    }),
    shards: z.number().int().min(1).max(16).default(1).openapi({ description: "SkuPool shards for very hot products" }),
    status: ProductStatus.default("active"),
    metadata: Metadata.optional(),
  })
  .strict()
  .openapi("ProductCreate");

export const ProductPatch = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullable(),
    face_value: Money.nullable(),
    price: Money,
    validity: ValiditySchema,
    limits: LimitsSchema,
    reversal_window_hours: z.number().int().min(0).max(720),
    claim_url_template: ClaimUrl.nullable(),
    status: ProductStatus,
    metadata: Metadata.nullable(),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, "send at least one field to change")
  .openapi("ProductPatch");

export const ProductSchema = z
  .object({
    id: z.string().openapi({ example: "prd_01jd…" }),
    object: z.literal("product"),
    name: z.string(),
    kind: ProductKind,
    description: z.string().nullable(),
    face_value: z.number().nullable(),
    price: z.number(),
    currency: z.string(),
    validity: z.any(),
    limits: z.object({
      per_order_max: z.number().nullable(),
      per_customer_max: z.number().nullable(),
      per_customer_window_days: z.number().nullable(),
    }),
    reversal_window_hours: z.number(),
    claim_url_template: z.string().nullable(),
    shards: z.number(),
    status: ProductStatus,
    metadata: z.record(z.string(), z.string()).nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Product");

export const ProductListQuery = z.object({
  status: ProductStatus.optional(),
  kind: ProductKind.optional(),
  q: z.string().trim().min(1).max(100).optional().openapi({ description: "Name contains" }),
});

export const StockSchema = z
  .object({
    product_id: z.string(),
    total: z
      .number()
      .nullable()
      .openapi({ description: "Merchant-wide counts: null for channel keys, which see their quotas instead" }),
    available: z.number().nullable(),
    held: z.number().nullable(),
    issued: z.number().nullable(),
    redeemed: z.number().nullable(),
    voided: z.number().nullable(),
    unallocated: z.number().nullable().openapi({ description: "Stock no channel holds quota for (root only)" }),
    allocations: z
      .array(
        z.object({
          channel_id: z.string(),
          quota: z.number(),
          low_water: z.number().nullable(),
          refill: z.number().nullable(),
        }),
      )
      .openapi({ description: "Quotas in the caller's subtree" }),
    shards: z
      .array(z.object({ shard: z.number(), available: z.number(), total: z.number() }))
      .openapi({ description: "Per shard (root only; empty for channel keys)" }),
    alerts: z
      .array(
        z.object({
          type: z.enum(["stock.low", "stock.refilled"]),
          channel_id: z.string(),
          quantity: z.number().nullable(),
          quota: z.number(),
          created_at: z.string(),
        }),
      )
      .openapi({ description: "The latest low-stock alerts and refills in the caller's subtree" }),
  })
  .openapi("Stock");
