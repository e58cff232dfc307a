/**
 * Claims of a campaign: POST /v1/campaigns/{id}/claims {"customer_ref"} with an Idempotency-Key grants the
 * customer one trial code (201, the code and when it expires); the same key gives back the same claim. The
 * Campaign object decides against exact counts (409 budget_exhausted / already_claimed, 410 campaign_ended,
 * 422 campaign_not_started); the code comes from an order of 1 unit on the campaign's channel at no charge,
 * placed exactly once under the claim's id. GET …/claims/{claim_id} reads a claim and its code again (a partner
 * told of a claim by webhook reads the code this way; console sessions never get codes).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { campaignInSubtree, claimRow } from "../db/campaigns";
import { type ClaimOutcome, claimCode } from "../lib/campaign-claim";
import type { AppEnv } from "../lib/context";
import { ApiError, conflict, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import type { ClaimRecord } from "../objects/campaign";
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

export const ClaimSchema = z
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

export const REFUSALS: Record<Exclude<ClaimOutcome, { ok: true }>["reason"], () => ApiError> = {
  campaign_not_started: () => unprocessable("campaign_not_started", "the campaign's claim window has not opened yet"),
  campaign_ended: () => new ApiError(410, "campaign_ended", "the campaign's claim window has closed"),
  campaign_paused: () => conflict("campaign_paused", "the campaign is paused"),
  already_claimed: () => conflict("already_claimed", "this customer has claimed as many codes as the campaign allows"),
  budget_exhausted: () => conflict("budget_exhausted", "the campaign has handed out its whole budget"),
  idempotency_mismatch: () =>
    conflict("idempotency_mismatch", "this Idempotency-Key was used for another customer of this campaign"),
  out_of_stock: () => conflict("out_of_stock", "no code of the campaign's product is left for its channel"),
  not_issued: () => conflict("not_issued", "the claim's code could not be issued"),
  no_product: () => notFound("product"),
  product_inactive: () => conflict("product_inactive", "the campaign's product is not on sale now"),
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A claim as the API shows it: what the Campaign object returned, or the claim's D1 row read back. */
type ClaimFields = Pick<ClaimRecord, "id" | "customer_ref" | "expires_at" | "created_at">;

export function view(campaignId: string, claim: ClaimFields, orderId: string, code: IssuedCode | null) {
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
    const outcome = await claimCode(c.env, campaign, customer_ref, c.req.valid("header")["idempotency-key"]);
    if (!outcome.ok) throw REFUSALS[outcome.reason]();
    if (outcome.replayed) c.header("Idempotent-Replayed", "true");
    c.header("Cache-Control", "no-store");
    const code = sessionOf(auth) ? null : outcome.code;
    return c.json(view(campaign.id, outcome.claim, outcome.orderId, code), 201);
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
    c.header("Cache-Control", "no-store");
    return c.json(view(id, { ...row, created_at: row.claimed_at }, row.order_id, code), 200);
  },
);
