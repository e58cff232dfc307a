/**
 * Public verify and redeem for consumers (the redemption widget and hosted page): no key,
 * attributed to the merchant's root channel, rate-limited per IP at the edge and
 * failure-budgeted per IP and per network.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getProducts } from "../db/products";
import { ROOT_CHANNEL_ID } from "../domain/ids";
import { type Caller, redeemCode, verifyCode } from "../lib/code-actions";
import type { AppEnv } from "../lib/context";
import { publicSecurity } from "../lib/public-routes";
import { validationHook } from "../lib/validation";
import { guardPlan } from "../security/failure-budget";
import { callbackRateLimit, isCallbackPath, isKeyedPublicPath, publicRateLimit } from "../security/rate-limit";
import { CodeInput, CodeState, RedemptionSchema } from "./redemptions";
import { commonErrors, errorResponses, json, jsonBody } from "./schemas";

export const publicApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Public"];

// Gateway and provider callbacks have a budget per sender instead of per IP (see callbackRateLimit). Routes with
// a publishable key authenticate first and then take the per-IP limit themselves (routes/public-claims.ts).
publicApp.use("/public/*", (c, next) =>
  isCallbackPath(c.req.path)
    ? callbackRateLimit(c, next)
    : isKeyedPublicPath(c.req.path)
      ? next()
      : publicRateLimit(c, next),
);

function publicCaller(c: Context<AppEnv>): Caller {
  const ip = c.req.header("cf-connecting-ip") ?? "unknown";
  return { channelId: ROOT_CHANNEL_ID, ip, plan: guardPlan(c.env, null, ip) };
}

/** What a consumer sees of a code: its state and the product's name (the hosted /redeem page shows it). */
const PublicCodeState = CodeState.extend({ product_name: z.string().nullable() }).openapi("PublicCodeState");

const errors = {
  400: commonErrors[400],
  404: commonErrors[404],
  429: commonErrors[429],
  ...errorResponses(409, 410, 423),
};

publicApp.openapi(
  createRoute({
    method: "post",
    path: "/public/codes/verify",
    tags,
    security: publicSecurity("POST /v1/public/codes/verify"),
    summary: "A code's status, for consumers",
    request: { body: jsonBody(CodeInput) },
    responses: { 200: json(PublicCodeState, "The code"), ...errors },
  }),
  async (c) => {
    const code = await verifyCode(c.env, c.executionCtx, publicCaller(c), c.req.valid("json"));
    const product = (await getProducts(c.env.DB, [code.product_id])).get(code.product_id);
    return c.json({ object: "code" as const, ...code, product_name: product?.name ?? null }, 200);
  },
);

publicApp.openapi(
  createRoute({
    method: "post",
    path: "/public/redemptions",
    tags,
    security: publicSecurity("POST /v1/public/redemptions"),
    summary: "Redeem a code, for consumers",
    request: { body: jsonBody(CodeInput) },
    responses: { 201: json(RedemptionSchema, "Redeemed"), ...errors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const done = await redeemCode(c.env, c.executionCtx, publicCaller(c), body);
    return c.json({ ...done, object: "redemption" as const, redeemer: body.redeemer ?? null }, 201);
  },
);
