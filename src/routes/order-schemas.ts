/** The order shapes of /v1/orders (request, response, the Idempotency-Key header) and the order as the API shows it. */
import { z } from "@hono/zod-openapi";
import { ORDER_STATUSES, type OrderRecord, publicOrder } from "../domain/orders";
import { ACCOUNT_MAX, type TopupView, validAccount } from "../domain/topup";
import type { IssuedCode } from "../objects/sku-pool";
import { IdempotencyKey } from "./schemas";

export const TopupAccount = z
  .string()
  .max(ACCOUNT_MAX)
  .refine(validAccount, "1–64 printable characters, no control characters, no spaces at the ends")
  .openapi({
    description: "topup products only: the account to recharge (phone number, game uid…)",
    example: "13800138000",
  });
export const TopupSchema = z
  .object({
    status: z.enum(["processing", "succeeded", "failed"]),
    account: z.string(),
    provider_ref: z.string().nullable(),
    attempts: z.number(),
    last_error: z.string().nullable(),
  })
  .openapi("TopupStatus");

export const OrderCreate = z
  .object({
    items: z
      .array(
        z
          .object({
            product_id: z.string().regex(/^prd_[a-z0-9]{1,40}$/),
            quantity: z.number().int().min(1).max(1000),
            account: TopupAccount.optional(),
          })
          .strict(),
      )
      .min(1)
      .max(20),
    customer_ref: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Your id for the buyer; per-customer limits count by it" }),
    external_ref: z.string().trim().min(1).max(200).optional().openapi({ description: "Your order number" }),
  })
  .strict()
  .refine(
    (o) => new Set(o.items.map((i) => i.product_id)).size === o.items.length,
    "each product appears once in items",
  )
  .openapi("OrderCreate");

export const CodeSchema = z
  .object({
    code: z.string(),
    pin: z.string().optional(),
    url: z.string().optional(),
    expires_at: z.string().nullable(),
  })
  .openapi("IssuedCode");
export const OrderSchema = z
  .object({
    id: z.string(),
    object: z.literal("order"),
    channel_id: z.string(),
    status: z.enum(ORDER_STATUSES),
    customer_ref: z.string().nullable(),
    external_ref: z.string().nullable(),
    currency: z.string(),
    total_amount: z.number(),
    failure_reason: z.string().nullable(),
    items: z.array(
      z.object({
        product_id: z.string(),
        quantity: z.number(),
        unit_price: z.number(),
        amount: z.number(),
        codes: z.array(CodeSchema).optional(),
      }),
    ),
    created_at: z.string(),
    updated_at: z.string(),
    topup: TopupSchema.optional().openapi({
      description: "topup orders: the recharge at the provider, account masked",
    }),
  })
  .openapi("Order");
export const IdempotencyHeader = z.object({
  "idempotency-key": IdempotencyKey,
});

/** The order as the API shows it, with codes (and claim URLs for link products) when given. */
export function orderView(
  order: OrderRecord,
  codes: Record<number, IssuedCode[]> | null,
  claimUrls: Map<string, string | null>,
  topup?: TopupView | null,
) {
  const base = publicOrder(order);
  return {
    ...base,
    object: "order" as const,
    ...(topup ? { topup } : {}),
    items: base.items.map((item, line) => {
      if (!codes) return item;
      const template = claimUrls.get(item.product_id);
      return {
        ...item,
        codes: (codes[line] ?? []).map((c) =>
          template ? { ...c, url: template.replace("{code}", encodeURIComponent(c.code)) } : c,
        ),
      };
    }),
  };
}
