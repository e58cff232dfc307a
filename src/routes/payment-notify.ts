/**
 * Gateway notices: `POST /v1/public/payments/{gateway}/notify` (public: gateways sign instead of
 * authenticating). Verify from the raw body → find the order's channel → the ChannelAccount decides
 * synchronously (pay once, duplicate, refuse a mismatch, late payment) → record the notice → answer
 * the way the gateway expects. Unverified notices are only counted, never stored.
 * Also the development-only sandbox payer `POST /v1/public/sandbox/pay/{order_id}`.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  checkoutOrderChannel,
  countNoticeRejection,
  recordPaymentNotice,
  sandboxCheckoutChannel,
} from "../db/payments";
import { newId } from "../domain/ids";
import { gateways, missingSecret } from "../gateways/registry";
import { SANDBOX_HEADER, signSandboxNotice } from "../gateways/sandbox";
import { GATEWAYS, type GatewayName, secret } from "../gateways/types";
import type { AppEnv } from "../lib/context";
import { ApiError, errorBody, notFound } from "../lib/errors";
import { publicSecurity } from "../lib/public-routes";
import { validationHook } from "../lib/validation";
import { channelAccount } from "../objects/channel-account";
import type { NoticeOutcome } from "../objects/channel-payment";
import { commonErrors, errorResponses, json } from "./schemas";

export const paymentNotifyApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Payments"];
const MAX_NOTICE_BYTES = 64 * 1024;

/** The whole notice path, shared by the public endpoint and the sandbox payer. */
export async function handleNotice(env: Env, gateway: GatewayName, headers: Headers, body: string): Promise<Response> {
  const error = (status: number, code: string, message: string) => Response.json(errorBody(code, message), { status });
  const missing = missingSecret(env, gateway);
  if (missing)
    return error(503, "misconfigured", `the ${gateway} gateway is not configured: secret ${missing} is not set`);
  if (new TextEncoder().encode(body).length > MAX_NOTICE_BYTES)
    return error(413, "payload_too_large", "notices are at most 64 KiB");
  const adapter = gateways[gateway];
  const now = Date.now();
  const verdict = await adapter.verifyNotification({ headers, body }, env, now);
  if (!verdict.ok) {
    const day = new Date(now).toISOString().slice(0, 10);
    await countNoticeRejection(env.DB, gateway, day, `rejected_${verdict.reason}`, now);
    return verdict.reason === "malformed"
      ? error(400, "malformed_notice", verdict.message)
      : error(401, "invalid_signature", verdict.message);
  }
  const notice = verdict.notice;
  const row = notice.order_id ? await checkoutOrderChannel(env.DB, notice.order_id) : null;
  const outcome: NoticeOutcome = row
    ? await channelAccount(env, row.channel_id).applyPaymentNotice(notice)
    : notice.kind === "paid"
      ? "rejected_order"
      : "ignored";
  await recordPaymentNotice(env.DB, newId("ntc", now), notice, row?.channel_id ?? null, outcome, now);
  if (outcome === "rejected_amount")
    return error(422, "amount_mismatch", "the notice's amount differs from the order's; the order is unchanged");
  if (outcome === "rejected_currency")
    return error(422, "currency_mismatch", "the notice's currency differs from the order's; the order is unchanged");
  if (outcome === "rejected_order") return error(404, "order_not_found", "no checkout order matches this notice");
  const ack = adapter.ack();
  return new Response(ack.body, {
    status: ack.status,
    headers: { "content-type": ack.contentType, "x-notice-outcome": outcome },
  });
}

paymentNotifyApp.post("/public/payments/:gateway/notify", async (c) => {
  const gateway = c.req.param("gateway") as GatewayName;
  if (!GATEWAYS.includes(gateway)) throw notFound("gateway");
  // Bytes, then UTF-8: gateways sign the exact body, whatever its content type (Alipay posts forms).
  return handleNotice(c.env, gateway, c.req.raw.headers, new TextDecoder().decode(await c.req.arrayBuffer()));
});

paymentNotifyApp.openapi(
  createRoute({
    method: "post",
    path: "/public/sandbox/pay/{order_id}",
    tags,
    security: publicSecurity("POST /v1/public/sandbox/pay/{order_id}"),
    summary: "Development only: pay a sandbox checkout (sends itself a signed sandbox notice)",
    request: {
      params: z.object({
        order_id: z
          .string()
          .regex(/^ord_[a-z0-9]{1,40}$/)
          .openapi({ param: { name: "order_id", in: "path" } }),
      }),
    },
    responses: {
      200: json(z.object({ order_id: z.string(), outcome: z.string() }), "The notice's outcome"),
      ...commonErrors,
      ...errorResponses(409, 422),
    },
  }),
  async (c) => {
    if ((c.env.ENVIRONMENT as string) !== "development")
      throw new ApiError(403, "forbidden", "the sandbox payer exists only when ENVIRONMENT is development");
    const key = secret(c.env, "SANDBOX_GATEWAY_SECRET");
    if (!key)
      throw new ApiError(
        503,
        "misconfigured",
        "the sandbox gateway is not configured: secret SANDBOX_GATEWAY_SECRET is not set",
      );
    const { order_id } = c.req.valid("param");
    const row = await sandboxCheckoutChannel(c.env.DB, order_id);
    const found = row ? await channelAccount(c.env, row.channel_id).checkoutOf(order_id) : null;
    if (!found?.order || !found.checkout) throw notFound("sandbox checkout");
    const body = JSON.stringify({
      id: newId("ntc"),
      type: "payment.succeeded",
      data: {
        order_id,
        payment_id: found.checkout.payment_id,
        amount: found.order.total_amount,
        currency: found.order.currency,
      },
    });
    const res = await handleNotice(
      c.env,
      "sandbox",
      new Headers({ [SANDBOX_HEADER]: await signSandboxNotice(key, body) }),
      body,
    );
    return c.json({ order_id, outcome: res.headers.get("x-notice-outcome") ?? `refused (${res.status})` }, 200);
  },
);
