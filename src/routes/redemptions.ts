/** Verify, redeem (核销), reverse and void codes. Every answer about a code comes from its SkuPool. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getProduct } from "../db/products";
import { redemptionRef } from "../db/redemptions";
import { type Caller, redeemCode, refused, verifyCode } from "../lib/code-actions";
import { lookupCode } from "../lib/code-lookup";
import type { AppEnv } from "../lib/context";
import { conflict, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { skuPool } from "../objects/sku-pool";
import { requireRoot, requireScope } from "../security/auth";
import { guardPlan } from "../security/failure-budget";
import { commonErrors, errorResponses, idParam, json, jsonBody } from "./schemas";

export const redemptionsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Redemption"];

export const CodeInput = z
  .object({
    code: z.string().min(1).max(200).openapi({ example: "7KQ2-M9XP-4HCT-R1WD" }),
    pin: z.string().min(1).max(64).optional(),
    redeemer: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Who redeemed: your user id, store id, …" }),
  })
  .strict();

export const CodeState = z
  .object({
    object: z.literal("code"),
    product_id: z.string(),
    status: z.enum(["issued", "redeemed", "voided", "expired"]),
    last4: z.string(),
    expires_at: z.string().nullable(),
    redeemed_at: z.string().nullable(),
  })
  .openapi("CodeState");

export const RedemptionSchema = z
  .object({
    id: z.string(),
    object: z.literal("redemption"),
    product_id: z.string(),
    last4: z.string(),
    redeemer: z.string().nullable(),
    redeemed_at: z.string(),
    expires_at: z.string().nullable(),
  })
  .openapi("Redemption");

/** The caller as the failure budget sees it: per API key (the owner's token is not budgeted). */
function keyedCaller(c: Context<AppEnv>): Caller {
  const auth = c.get("auth");
  return {
    channelId: auth.channelId,
    ip: c.req.header("cf-connecting-ip") ?? null,
    plan: guardPlan(c.env, auth, c.req.header("cf-connecting-ip") ?? "unknown"),
  };
}

redemptionsApp.openapi(
  createRoute({
    method: "post",
    path: "/codes/verify",
    tags,
    summary: "A code's status, changing nothing",
    request: { body: jsonBody(CodeInput) },
    responses: { 200: json(CodeState, "The code"), ...commonErrors, ...errorResponses(410, 423) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "redemptions:write");
    const code = await verifyCode(c.env, c.executionCtx, keyedCaller(c), c.req.valid("json"));
    return c.json({ object: "code" as const, ...code }, 200);
  },
);

redemptionsApp.openapi(
  createRoute({
    method: "post",
    path: "/redemptions",
    tags,
    summary: "Redeem a code, exactly once",
    request: { body: jsonBody(CodeInput) },
    responses: { 201: json(RedemptionSchema, "Redeemed"), ...commonErrors, ...errorResponses(409, 410, 423) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "redemptions:write");
    const body = c.req.valid("json");
    const done = await redeemCode(c.env, c.executionCtx, keyedCaller(c), body);
    return c.json({ ...done, object: "redemption" as const, redeemer: body.redeemer ?? null }, 201);
  },
);

redemptionsApp.openapi(
  createRoute({
    method: "post",
    path: "/redemptions/{id}/reverse",
    tags,
    summary: "Undo a redemption within the product's window",
    request: { params: idParam("rdm") },
    responses: {
      200: json(z.object({ id: z.string(), object: z.literal("redemption"), reversed_at: z.string() }), "Reversed"),
      ...commonErrors,
      ...errorResponses(409, 422),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "redemptions:write");
    const id = c.req.valid("param").id;
    const row = await redemptionRef(c.env.DB, id);
    if (!row || (!auth.root && row.channel_id !== auth.channelId)) throw notFound("redemption");
    const product = await getProduct(c.env.DB, row.product_id);
    const ref = { productId: row.product_id, shard: row.shard };
    const result = await skuPool(c.env, ref).reverse(ref, id, (product?.reversal_window_hours ?? 24) * 3600_000);
    if (!result.ok) {
      if (result.reason === "redemption_not_found") throw notFound("redemption");
      if (result.reason === "reversal_window_passed")
        throw unprocessable(result.reason, "the reversal window of this product has passed");
      throw conflict(
        result.reason,
        result.reason === "already_reversed"
          ? "this redemption was already reversed"
          : "the code is no longer redeemed",
      );
    }
    return c.json({ id, object: "redemption" as const, reversed_at: result.reversed_at }, 200);
  },
);

redemptionsApp.openapi(
  createRoute({
    method: "post",
    path: "/codes/void",
    tags,
    summary: "Void a code that has not been redeemed (leaked, refunded)",
    request: {
      body: jsonBody(
        z.object({ code: z.string().min(1).max(200), reason: z.string().trim().min(1).max(200) }).strict(),
      ),
    },
    responses: {
      200: json(z.object({ object: z.literal("code"), status: z.literal("voided"), last4: z.string() }), "Voided"),
      ...commonErrors,
      ...errorResponses(409, 410),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "codes:write");
    requireRoot(auth);
    const body = c.req.valid("json");
    const hit = await lookupCode(c.env, body.code, null);
    if (!hit.found) throw refused("code_not_found");
    const result = await skuPool(c.env, hit.ref).void(hit.ref, hit.index, body.reason);
    if (!result.ok) throw refused(result.reason);
    return c.json({ object: "code" as const, status: "voided" as const, last4: result.last4 }, 200);
  },
);
