/**
 * `POST /v1/orders/{id}/refund` (scope refunds:write, the caller's subtree, Idempotency-Key): refunds a
 * fulfilled order none of whose codes is redeemed. Its ChannelAccount voids the codes and returns the
 * money (gateway orders through the adapter, balance orders to the channel's balance); see objects/channel-refund.ts.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { orderChannelInSubtree } from "../db/order-channels";
import { publicOrder } from "../domain/orders";
import type { AppEnv } from "../lib/context";
import { ApiError, conflict, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { channelAccount } from "../objects/channel-account";
import { requireScope } from "../security/auth";
import { sha256Hex } from "../security/primitives";
import { commonErrors, errorResponses, IdempotencyKey, idParam, json, jsonBody } from "./schemas";

export const refundsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const RefundCreate = z
  .object({ reason: z.string().trim().min(1).max(500) })
  .strict()
  .openapi("RefundCreate");
const RefundSchema = z
  .object({
    id: z.string(),
    object: z.literal("refund"),
    order_id: z.string(),
    amount: z.number(),
    currency: z.string(),
    to: z.enum(["balance", "gateway"]),
    gateway: z.string().optional(),
    reason: z.string(),
    was_fulfilled: z.boolean(),
    order: z.record(z.string(), z.unknown()),
  })
  .openapi("Refund");

/** The channel of an order in the caller's subtree: its own orders at once, a descendant's through D1. */
async function orderChannel(
  env: Env,
  auth: { channelId: string; path: string },
  orderId: string,
): Promise<string | null> {
  const own = await channelAccount(env, auth.channelId).getOrder(orderId, false);
  if (own) return auth.channelId;
  const row = await orderChannelInSubtree(env.DB, orderId, auth.path);
  return row?.channel_id ?? null;
}

refundsApp.openapi(
  createRoute({
    method: "post",
    path: "/orders/{id}/refund",
    tags: ["Orders"],
    summary: "Refund a fulfilled order: void its codes and return the money",
    request: {
      params: idParam("ord"),
      headers: z.object({
        "idempotency-key": IdempotencyKey,
      }),
      body: jsonBody(RefundCreate),
    },
    responses: { 200: json(RefundSchema, "Refunded"), ...commonErrors, ...errorResponses(409, 422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "refunds:write");
    const id = c.req.valid("param").id;
    const { reason } = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const channelId = await orderChannel(c.env, auth, id);
    if (!channelId) throw notFound("order");
    const result = await channelAccount(c.env, channelId).refundOrder({
      orderId: id,
      reason,
      idempotencyKey: key,
      requestHash: await sha256Hex(JSON.stringify({ id, reason })),
    });
    if (!result.ok) {
      switch (result.reason) {
        case "not_found":
          throw notFound("order");
        case "idempotency_mismatch":
          throw conflict("idempotency_mismatch", "this Idempotency-Key was used with a different request");
        case "already_refunded":
          throw conflict("already_refunded", "the order is already refunded");
        case "refund_in_progress":
          throw conflict("refund_in_progress", "a refund of this order is running");
        case "code_redeemed":
          throw conflict("code_redeemed", "a code of this order is redeemed; nothing was refunded");
        default:
          throw unprocessable("not_refundable", result.message);
      }
    }
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    const r = result.refund;
    if (!r) throw new ApiError(500, "internal_error", "refund without record");
    return c.json(
      {
        id: r.id,
        object: "refund" as const,
        order_id: id,
        amount: r.amount,
        currency: r.currency,
        to: r.to,
        ...(r.gateway ? { gateway: r.gateway } : {}),
        reason: r.reason,
        was_fulfilled: r.was_fulfilled,
        order: publicOrder(result.order),
      },
      200,
    );
  },
);
