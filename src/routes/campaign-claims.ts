/**
 * Claims of a campaign: POST /v1/campaigns/{id}/claims {"customer_ref"} with an Idempotency-Key grants the
 * customer one trial code (201, the code and when it expires); the same key gives back the same claim. The
 * Campaign object decides against exact counts (409 budget_exhausted / already_claimed, 410 campaign_ended,
 * 422 campaign_not_started); the code comes from an order of 1 unit on the campaign's channel at no charge,
 * placed exactly once under the claim's id. GET …/claims/{claim_id} reads a claim and its code again (a partner
 * told of a claim by webhook reads the code this way; console sessions never get codes).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { type CampaignRow, campaignInSubtree, claimRow, recordClaim } from "../db/campaigns";
import { getProducts } from "../db/products";
import { businessOffsetMs } from "../domain/analytics-range";
import type { CampaignRules } from "../domain/campaigns";
import { newId } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { ApiError, conflict, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { type ClaimRecord, campaignObject } from "../objects/campaign";
import { channelAccount } from "../objects/channel-account";
import type { IssuedCode } from "../objects/sku-pool";
import { requireScope } from "../security/auth";
import { sessionOf } from "../security/sessions";
import { IdempotencyHeader } from "./order-schemas";
import { commonErrors, errorResponses, idParam, json, jsonBody } from "./schemas";

export const campaignClaimsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Campaigns"];

const ClaimCreate = z
  .object({ customer_ref: z.string().trim().min(1).max(200).openapi({ example: "user-8841" }) })
  .strict()
  .openapi("CampaignClaimCreate");

const ClaimSchema = z
  .object({
    id: z.string(),
    object: z.literal("campaign_claim"),
    campaign_id: z.string(),
    customer_ref: z.string(),
    order_id: z.string(),
    code: z
      .object({ code: z.string(), pin: z.string().optional(), expires_at: z.string().nullable() })
      .nullable()
      .openapi({ description: "The claimed code (null for console sessions)" }),
    expires_at: z.string().nullable(),
    claimed_at: z.string(),
  })
  .openapi("CampaignClaim");

export const rulesOf = (c: CampaignRow): CampaignRules => ({
  starts_at: c.starts_at,
  ends_at: c.ends_at,
  max_claims: c.max_claims,
  daily_max: c.daily_max,
  max_amount: c.max_amount,
  face_value: c.face_value,
  per_customer_max: c.per_customer_max,
});

const REFUSALS = {
  campaign_not_started: () => unprocessable("campaign_not_started", "the campaign's claim window has not opened yet"),
  campaign_ended: () => new ApiError(410, "campaign_ended", "the campaign's claim window has closed"),
  already_claimed: () => conflict("already_claimed", "this customer has claimed as many codes as the campaign allows"),
  budget_exhausted: () => conflict("budget_exhausted", "the campaign has handed out its whole budget"),
  idempotency_mismatch: () =>
    conflict("idempotency_mismatch", "this Idempotency-Key was used for another customer of this campaign"),
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Places (or finds again) the claim's order: 1 unit on the campaign's channel, no charge, keyed by the claim. */
async function issue(env: Env, campaign: CampaignRow, claim: ClaimRecord) {
  const product = (await getProducts(env.DB, [campaign.product_id])).get(campaign.product_id);
  if (!product) throw notFound("product");
  const key = `campaign-claim:${claim.id}`;
  return channelAccount(env, campaign.channel_id).placeOrder({
    channelId: campaign.channel_id,
    paysFromBalance: false,
    idempotencyKey: key,
    requestHash: key,
    customerRef: claim.customer_ref,
    externalRef: claim.id,
    lines: [
      {
        product_id: product.id,
        quantity: 1,
        unit_price: 0,
        currency: product.currency,
        validity: { type: "relative", days: campaign.validity_days },
        shards: product.shards,
        per_customer_max: null,
        per_customer_window_days: null,
      },
    ],
  });
}

function view(campaignId: string, claim: ClaimRecord, orderId: string, code: IssuedCode | null) {
  return {
    id: claim.id,
    object: "campaign_claim" as const,
    campaign_id: campaignId,
    customer_ref: claim.customer_ref,
    order_id: orderId,
    code: code ? { code: code.code, ...(code.pin ? { pin: code.pin } : {}), expires_at: code.expires_at } : null,
    expires_at: code?.expires_at ?? iso(claim.expires_at),
    claimed_at: iso(claim.created_at)!,
  };
}

campaignClaimsApp.openapi(
  createRoute({
    method: "post",
    path: "/campaigns/{id}/claims",
    tags,
    summary: "Claim a campaign's trial code for a customer (exact budget and per-customer limit; idempotent)",
    request: { params: idParam("cmp"), headers: IdempotencyHeader, body: jsonBody(ClaimCreate) },
    responses: {
      201: json(ClaimSchema, "The claim, with its code"),
      ...commonErrors,
      ...errorResponses(409, 410, 422),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:write");
    const { id } = c.req.valid("param");
    const { customer_ref } = c.req.valid("json");
    const campaign = await campaignInSubtree(c.env.DB, id, auth.path);
    if (!campaign) throw notFound("campaign");
    if (campaign.status === "archived") throw REFUSALS.campaign_ended();
    if (campaign.status === "paused") throw conflict("campaign_paused", "the campaign is paused");
    const now = Date.now();
    const decision = await campaignObject(c.env, campaign.id).claim(rulesOf(campaign), {
      claimId: newId("clm", now),
      customerRef: customer_ref,
      idemKey: c.req.valid("header")["idempotency-key"],
      now,
      dayOffsetMs: businessOffsetMs(c.env.ANALYTICS_TZ_OFFSET_MINUTES),
    });
    if (decision.kind === "refused") throw REFUSALS[decision.reason]();
    const { claim } = decision;
    const result = await issue(c.env, campaign, claim);
    if (!result.ok) {
      // Nothing was issued: the reservation gives its place back and the caller learns why.
      if (decision.kind === "new") await campaignObject(c.env, campaign.id).release(claim.id);
      if (result.reason === "out_of_stock" || result.reason === "quota_exceeded")
        throw conflict("out_of_stock", "no code of the campaign's product is left for its channel");
      throw conflict(result.reason, "the claim's code could not be issued");
    }
    const code = result.codes[0]?.[0] ?? null;
    const expiresAt = code?.expires_at ? Date.parse(code.expires_at) : null;
    await campaignObject(c.env, campaign.id).confirm(claim.id, result.order.id, expiresAt);
    await recordClaim(c.env.DB, {
      id: claim.id,
      campaign_id: campaign.id,
      channel_id: campaign.channel_id,
      customer_ref: claim.customer_ref,
      order_id: result.order.id,
      claimed_at: claim.created_at,
      expires_at: expiresAt,
    });
    if (decision.kind === "replay") c.header("Idempotent-Replayed", "true");
    c.header("Cache-Control", "no-store");
    return c.json(view(campaign.id, claim, result.order.id, sessionOf(auth) ? null : code), 201);
  },
);

campaignClaimsApp.openapi(
  createRoute({
    method: "get",
    path: "/campaigns/{id}/claims/{claim_id}",
    tags,
    summary: "A claim and its code (codes only for API keys, never for console sessions)",
    request: { params: idParam("cmp").merge(idParam("clm", "claim_id")) },
    responses: { 200: json(ClaimSchema, "The claim"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const { id, claim_id } = c.req.valid("param");
    const campaign = await campaignInSubtree(c.env.DB, id, auth.path);
    const row = campaign ? await claimRow(c.env.DB, id, claim_id) : null;
    if (!campaign || !row) throw notFound("claim");
    const found = sessionOf(auth) ? null : await channelAccount(c.env, row.channel_id).getOrder(row.order_id);
    const code = found?.codes?.[0]?.[0] ?? null;
    const claim: ClaimRecord = {
      id: row.id,
      customer_ref: row.customer_ref,
      state: "issued",
      order_id: row.order_id,
      expires_at: row.expires_at,
      created_at: row.claimed_at,
    };
    c.header("Cache-Control", "no-store");
    return c.json(view(id, claim, row.order_id, code), 200);
  },
);
