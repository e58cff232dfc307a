/**
 * POST /v1/public/topup/notify: the provider's optional callback. Signed like every provider
 * message (X-Provider-Timestamp, X-Provider-Signature over `timestamp.body`); a final status ends
 * the order early through the same idempotent ChannelAccount step the queue consumer uses, so a
 * repeated or late notice changes nothing. Pending notices are acknowledged and ignored.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { projectedOrderChannel } from "../db/order-channels";
import { parseOutTradeNo } from "../domain/topup";
import type { AppEnv } from "../lib/context";
import { ApiError, notFound } from "../lib/errors";
import { publicSecurity } from "../lib/public-routes";
import { validationHook } from "../lib/validation";
import { channelAccount } from "../objects/channel-account";
import { providerConfig, verifySigned } from "../providers/topup-provider";
import { commonErrors, json, jsonBody } from "./schemas";

export const topupNotifyApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const Notice = z
  .object({
    out_trade_no: z.string().regex(/^ord_[a-z0-9]{1,40}-\d{1,2}$/),
    status: z.enum(["succeeded", "failed", "pending"]),
    provider_ref: z.string().max(200).nullable().optional(),
    error: z.string().max(200).nullable().optional(),
  })
  .openapi("TopupNotice");

const Ack = z.object({ ok: z.literal(true), applied: z.boolean() }).openapi("TopupNoticeAck");

topupNotifyApp.openapi(
  createRoute({
    method: "post",
    path: "/public/topup/notify",
    tags: ["Public"],
    security: publicSecurity("POST /v1/public/topup/notify"),
    summary: "Top-up provider callback (signed by the provider, HMAC-SHA256 over timestamp.body)",
    request: {
      headers: z.object({
        "x-provider-timestamp": z.string().max(20).optional(),
        "x-provider-signature": z.string().max(128).optional(),
      }),
      body: jsonBody(Notice),
    },
    responses: {
      200: json(Ack, "Accepted (applied: whether it changed the order)"),
      400: commonErrors[400],
      401: commonErrors[401],
      404: commonErrors[404],
      429: commonErrors[429],
    },
  }),
  async (c) => {
    const config = providerConfig(c.env);
    if (!config.ok) throw new ApiError(503, "misconfigured", `top-ups need ${config.missing}`);
    const headers = c.req.valid("header");
    // The signature covers the exact bytes received (Hono keeps the body after validation).
    const raw = await c.req.text();
    if (
      !(await verifySigned(config.config.secret, headers["x-provider-timestamp"], headers["x-provider-signature"], raw))
    ) {
      throw new ApiError(401, "invalid_signature", "the notice's signature or timestamp does not verify");
    }
    const notice = c.req.valid("json");
    const ref = parseOutTradeNo(notice.out_trade_no)!;
    const row = await projectedOrderChannel(c.env.DB, ref.orderId);
    // Not projected yet (or unknown): the provider retries its notice; the queue consumer finishes the order anyway.
    if (!row) throw notFound("order");
    if (notice.status === "pending") return c.json({ ok: true as const, applied: false }, 200);
    const applied = await channelAccount(c.env, row.channel_id).topupFinish(
      ref.orderId,
      notice.status === "succeeded"
        ? { kind: "succeeded", provider_ref: notice.provider_ref ?? null }
        : { kind: "failed", provider_ref: notice.provider_ref ?? null, reason: notice.error || "provider_declined" },
    );
    return c.json({ ok: true as const, applied }, 200);
  },
);
