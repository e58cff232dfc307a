/**
 * Verify and redeem, shared by the keyed API and the public endpoints. Order of work:
 * failure-budget check (a locked client is refused before any lookup), the edge check of
 * the code's check characters, the index lookup, then the code's SkuPool. Guesses count
 * against the caller's budget; failed attempts are recorded without the code.
 */
import { insertRedemption, insertRedemptionAttempt } from "../db/redemptions";
import { newId } from "../domain/ids";
import { skuPool } from "../objects/sku-pool";
import type { CodeRefusal, CodeView } from "../objects/sku-pool-redemption";
import { assertNotLocked, countFailure, type GuardPlan } from "../security/failure-budget";
import { lookupCode } from "./code-lookup";
import { ApiError } from "./errors";

export interface Caller {
  channelId: string;
  ip: string | null;
  plan: GuardPlan | null;
}

export interface CodeInput {
  code: string;
  pin?: string;
  redeemer?: string;
}

const REFUSALS: Record<CodeRefusal, [404 | 400 | 409 | 410 | 423, string]> = {
  code_not_found: [404, "no such code (or the PIN does not match)"],
  pin_required: [400, "this card needs its PIN"],
  card_locked: [423, "this card is locked after too many wrong PINs; contact support"],
  code_voided: [410, "this code was voided"],
  already_redeemed: [409, "this code was already redeemed"],
  code_expired: [410, "this code has expired"],
  refund_pending: [409, "this code's order is being refunded; try again in a minute"],
};

/** Only guesses spend the budget: a real code that is used up or expired is not a guess. */
const GUESSES: ReadonlySet<CodeRefusal> = new Set(["code_not_found", "card_locked"]);

export function refused(reason: CodeRefusal, details?: Record<string, unknown>): ApiError {
  const [status, message] = REFUSALS[reason];
  return new ApiError(status, reason, message, details);
}

async function fail(
  env: Env,
  ctx: ExecutionContext,
  caller: Caller,
  action: string,
  result: string,
  productId: string | null,
  reason: CodeRefusal,
  details?: Record<string, unknown>,
): Promise<never> {
  ctx.waitUntil(
    insertRedemptionAttempt(env.DB, {
      id: newId("att"),
      action,
      result,
      productId,
      channelId: caller.channelId,
      ip: caller.ip,
      createdAt: Date.now(),
    }).catch(() => undefined),
  );
  if (GUESSES.has(reason)) await countFailure(env, caller.plan);
  throw refused(reason, details);
}

export async function verifyCode(
  env: Env,
  ctx: ExecutionContext,
  caller: Caller,
  body: CodeInput,
): Promise<CodeView & { product_id: string }> {
  await assertNotLocked(env, caller.plan);
  const hit = await lookupCode(env, body.code, body.pin);
  if (!hit.found) return fail(env, ctx, caller, "verify", `not_found_${hit.stage}`, null, "code_not_found");
  const result = await skuPool(env, hit.ref).verify(hit.ref, {
    index: hit.index,
    pinHash: hit.pinHash,
    now: Date.now(),
  });
  if (!result.ok) return fail(env, ctx, caller, "verify", result.reason, hit.ref.productId, result.reason);
  return { product_id: hit.ref.productId, ...result.code };
}

export interface Redeemed {
  id: string;
  product_id: string;
  last4: string;
  redeemed_at: string;
  expires_at: string | null;
}

export async function redeemCode(env: Env, ctx: ExecutionContext, caller: Caller, body: CodeInput): Promise<Redeemed> {
  await assertNotLocked(env, caller.plan);
  const hit = await lookupCode(env, body.code, body.pin);
  if (!hit.found) return fail(env, ctx, caller, "redeem", `not_found_${hit.stage}`, null, "code_not_found");
  const id = newId("rdm");
  const now = Date.now();
  const result = await skuPool(env, hit.ref).redeem(hit.ref, {
    index: hit.index,
    pinHash: hit.pinHash,
    now,
    redemptionId: id,
    redeemer: body.redeemer ?? null,
    channelId: caller.channelId,
  });
  if (!result.ok)
    return fail(
      env,
      ctx,
      caller,
      "redeem",
      result.reason,
      hit.ref.productId,
      result.reason,
      result.redeemed_at ? { redeemed_at: result.redeemed_at } : undefined,
    );
  // Written now so a reversal can find its pool at once; the events projection fills in the rest.
  await insertRedemption(env.DB, {
    id,
    productId: hit.ref.productId,
    shard: hit.ref.shard,
    channelId: caller.channelId,
    last4: result.code.last4,
    redeemer: body.redeemer ?? null,
    redeemedAt: now,
  });
  return {
    id,
    product_id: hit.ref.productId,
    last4: result.code.last4,
    redeemed_at: result.code.redeemed_at!,
    expires_at: result.code.expires_at,
  };
}
