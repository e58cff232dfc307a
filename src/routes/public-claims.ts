/**
 * Campaign claims from a consumer's browser, with no partner server: `POST /v1/public/campaigns/{id}/claims`
 * with a publishable key whose channel subtree holds the campaign, for campaigns that allow it
 * (`consumer_claims`). Where TURNSTILE_SECRET is set the page's Turnstile token is checked first
 * (lib/turnstile.ts); then each IP has an exact budget of claims (CONSUMER_CLAIMS_PER_IP, default 5 an hour,
 * counted in its AbuseGuard); then the claim is the same exact, idempotent claim partners make.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { campaignInSubtree } from "../db/campaigns";
import { claimCode } from "../lib/campaign-claim";
import type { AppEnv } from "../lib/context";
import { ApiError, notFound } from "../lib/errors";
import { publicSecurity } from "../lib/public-routes";
import { requirePublishableKey } from "../lib/publishable-keys";
import { assertHuman } from "../lib/turnstile";
import { validationHook } from "../lib/validation";
import { abuseGuard } from "../objects/abuse-guard";
import { publicRateLimit } from "../security/rate-limit";
import { ClaimSchema, REFUSALS, view } from "./campaign-claims";
import { IdempotencyHeader } from "./order-schemas";
import { commonErrors, errorResponses, idParam, json, jsonBody } from "./schemas";

export const publicClaimsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
// Authentication first, then the per-IP public limit (as on the checkout routes).
publicClaimsApp.use("/public/campaigns/*", requirePublishableKey, publicRateLimit);

const PublicClaimCreate = z
  .object({
    customer_ref: z.string().trim().min(1).max(200).openapi({ example: "phone:13800000000" }),
    turnstile_token: z.string().min(1).max(2048).optional().openapi({
      description: "The Turnstile widget's token (required where the merchant has set TURNSTILE_SECRET)",
    }),
  })
  .strict()
  .openapi("PublicCampaignClaimCreate");

/** "count/seconds", e.g. "5/3600"; the default when unset or malformed. */
function claimBudget(env: Env): { limit: number; windowMs: number } {
  const raw = (env as unknown as Record<string, string | undefined>).CONSUMER_CLAIMS_PER_IP ?? "";
  const m = /^(\d{1,6})\/(\d{1,7})$/.exec(raw.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) return { limit: 5, windowMs: 3_600_000 };
  return { limit: Number(m[1]), windowMs: Number(m[2]) * 1000 };
}

publicClaimsApp.openapi(
  createRoute({
    method: "post",
    path: "/public/campaigns/{id}/claims",
    tags: ["Campaigns"],
    security: publicSecurity("POST /v1/public/campaigns/{id}/claims"),
    summary: "Claim a campaign's code from a consumer's browser (publishable key, Turnstile, a budget per IP)",
    request: { params: idParam("cmp"), headers: IdempotencyHeader, body: jsonBody(PublicClaimCreate) },
    responses: {
      201: json(ClaimSchema, "The claim, with its code"),
      ...commonErrors,
      ...errorResponses(409, 410, 422),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const campaign = await campaignInSubtree(c.env.DB, id, auth.path);
    // A campaign that does not take browser claims reads as unknown: its id is not a way in.
    if (campaign?.consumer_claims !== 1) throw notFound("campaign");
    const ip = c.req.header("cf-connecting-ip") ?? "unknown";
    await assertHuman(c.env, body.turnstile_token, ip);
    const budget = claimBudget(c.env);
    const taken = await abuseGuard(c.env, `claims:${ip}`).take(`claims:${ip}`, budget.limit, budget.windowMs);
    if (!taken.ok) {
      const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      throw new ApiError(
        429,
        "too_many_claims",
        "this network has claimed as many codes as it may for now",
        { retry_after_seconds: seconds },
        { "Retry-After": String(seconds) },
      );
    }
    // Browser keys live in their own namespace: a page cannot replay a partner's claim by guessing its key.
    const key = `consumer:${c.req.valid("header")["idempotency-key"]}`;
    const outcome = await claimCode(c.env, campaign, body.customer_ref, key);
    if (!outcome.ok) throw REFUSALS[outcome.reason]();
    if (outcome.replayed) c.header("Idempotent-Replayed", "true");
    c.header("Cache-Control", "no-store");
    return c.json(view(campaign.id, outcome.claim, outcome.orderId, outcome.code), 201);
  },
);
