/** Verify, redeem (核销), reverse and void codes. Every answer about a code comes from its SkuPool. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { newId } from "../domain/ids";
import { getProduct } from "../db/products";
import { lookupCode } from "../lib/code-lookup";
import type { AppEnv } from "../lib/context";
import { ApiError, conflict, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { skuPool } from "../objects/sku-pool";
import type { CodeRefusal } from "../objects/sku-pool-redemption";
import { requireRoot, requireScope } from "../security/auth";
import { commonErrors, errorResponses, idParam, json, jsonBody } from "./schemas";

export const redemptionsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Redemption"];

const CodeInput = z
  .object({
    code: z.string().min(1).max(200).openapi({ example: "7KQ2-M9XP-4HCT-R1WD" }),
    pin: z.string().min(1).max(64).optional(),
    redeemer: z.string().trim().min(1).max(200).optional().openapi({ description: "Who redeemed: your user id, store id, …" }),
  })
  .strict();

const CodeState = z
  .object({
    object: z.literal("code"), product_id: z.string(), status: z.enum(["issued", "redeemed", "voided", "expired"]),
    last4: z.string(), expires_at: z.string().nullable(), redeemed_at: z.string().nullable(),
  })
  .openapi("CodeState");

const RedemptionSchema = z
  .object({ id: z.string(), object: z.literal("redemption"), product_id: z.string(), last4: z.string(), redeemer: z.string().nullable(), redeemed_at: z.string(), expires_at: z.string().nullable() })
  .openapi("Redemption");

const REFUSALS: Record<CodeRefusal, [404 | 400 | 409 | 410 | 423, string]> = {
  code_not_found: [404, "no such code (or the PIN does not match)"],
  pin_required: [400, "this card needs its PIN"],
  card_locked: [423, "this card is locked after too many wrong PINs; contact support"],
  code_voided: [410, "this code was voided"],
  already_redeemed: [409, "this code was already redeemed"],
  code_expired: [410, "this code has expired"],
};

function refused(reason: CodeRefusal, details?: Record<string, unknown>): ApiError {
  const [status, message] = REFUSALS[reason];
  return new ApiError(status, reason, message, details);
}

/** Records a failed attempt without the code; best effort, after the answer. */
function recordAttempt(c: { env: Env; executionCtx: ExecutionContext; req: { header(n: string): string | undefined } }, action: string, result: string, productId: string | null, channelId: string): void {
  const ip = c.req.header("cf-connecting-ip") ?? null;
  c.executionCtx.waitUntil(
    c.env.DB.prepare("INSERT INTO redemption_attempts (id, action, result, product_id, channel_id, ip, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind(newId("att"), action, result, productId, channelId, ip, Date.now()).run().catch(() => undefined),
  );
}

redemptionsApp.openapi(
  createRoute({ method: "post", path: "/codes/verify", tags, summary: "A code's status, changing nothing", request: { body: jsonBody(CodeInput) }, responses: { 200: json(CodeState, "The code"), ...commonErrors, ...errorResponses(410, 423) } }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "redemptions:write");
    const body = c.req.valid("json");
    const hit = await lookupCode(c.env, body.code, body.pin);
    if (!hit.found) {
      recordAttempt(c, "verify", `not_found_${hit.stage}`, null, auth.channelId);
      throw refused("code_not_found");
    }
    const result = await skuPool(c.env, hit.ref).verify(hit.ref, { index: hit.index, pinHash: hit.pinHash, now: Date.now() });
    if (!result.ok) {
      recordAttempt(c, "verify", result.reason, hit.ref.productId, auth.channelId);
      throw refused(result.reason);
    }
    return c.json({ object: "code" as const, product_id: hit.ref.productId, ...result.code }, 200);
  },
);

redemptionsApp.openapi(
  createRoute({ method: "post", path: "/redemptions", tags, summary: "Redeem a code, exactly once", request: { body: jsonBody(CodeInput) }, responses: { 201: json(RedemptionSchema, "Redeemed"), ...commonErrors, ...errorResponses(409, 410, 423) } }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "redemptions:write");
    const body = c.req.valid("json");
    const hit = await lookupCode(c.env, body.code, body.pin);
    if (!hit.found) {
      recordAttempt(c, "redeem", `not_found_${hit.stage}`, null, auth.channelId);
      throw refused("code_not_found");
    }
    const redemptionId = newId("rdm");
    const now = Date.now();
    const result = await skuPool(c.env, hit.ref).redeem(hit.ref, { index: hit.index, pinHash: hit.pinHash, now, redemptionId, redeemer: body.redeemer ?? null, channelId: auth.channelId });
    if (!result.ok) {
      recordAttempt(c, "redeem", result.reason, hit.ref.productId, auth.channelId);
      throw refused(result.reason, result.redeemed_at ? { redeemed_at: result.redeemed_at } : undefined);
    }
    // Written now so a reversal can find its pool at once; the events projection upserts the same row.
    await c.env.DB.prepare("INSERT OR IGNORE INTO redemptions (id, product_id, shard, channel_id, last4, redeemer, redeemed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind(redemptionId, hit.ref.productId, hit.ref.shard, auth.channelId, result.code.last4, body.redeemer ?? null, now).run();
    return c.json({
      id: redemptionId, object: "redemption" as const, product_id: hit.ref.productId, last4: result.code.last4,
      redeemer: body.redeemer ?? null, redeemed_at: result.code.redeemed_at!, expires_at: result.code.expires_at,
    }, 201);
  },
);

redemptionsApp.openapi(
  createRoute({
    method: "post", path: "/redemptions/{id}/reverse", tags, summary: "Undo a redemption within the product's window",
    request: { params: idParam("rdm") },
    responses: { 200: json(z.object({ id: z.string(), object: z.literal("redemption"), reversed_at: z.string() }), "Reversed"), ...commonErrors, ...errorResponses(409, 422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "redemptions:write");
    const id = c.req.valid("param").id;
    const row = await c.env.DB.prepare("SELECT product_id, shard, channel_id FROM redemptions WHERE id = ?1").bind(id).first<{ product_id: string; shard: number; channel_id: string }>();
    if (!row || (!auth.root && row.channel_id !== auth.channelId)) throw notFound("redemption");
    const product = await getProduct(c.env.DB, row.product_id);
    const ref = { productId: row.product_id, shard: row.shard };
    const result = await skuPool(c.env, ref).reverse(ref, id, (product?.reversal_window_hours ?? 24) * 3600_000);
    if (!result.ok) {
      if (result.reason === "redemption_not_found") throw notFound("redemption");
      if (result.reason === "reversal_window_passed") throw unprocessable(result.reason, "the reversal window of this product has passed");
      throw conflict(result.reason, result.reason === "already_reversed" ? "this redemption was already reversed" : "the code is no longer redeemed");
    }
    return c.json({ id, object: "redemption" as const, reversed_at: result.reversed_at }, 200);
  },
);

redemptionsApp.openapi(
  createRoute({
    method: "post", path: "/codes/void", tags, summary: "Void a code that has not been redeemed (leaked, refunded)",
    request: { body: jsonBody(z.object({ code: z.string().min(1).max(200), reason: z.string().trim().min(1).max(200) }).strict()) },
    responses: { 200: json(z.object({ object: z.literal("code"), status: z.literal("voided"), last4: z.string() }), "Voided"), ...commonErrors, ...errorResponses(409, 410) },
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
