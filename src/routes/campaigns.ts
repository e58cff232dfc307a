/**
 * Trial-code campaigns (docs/campaigns.md): the merchant creates one for a product and a channel with a claim
 * window, how long a claimed code stays valid, and a budget (claims in total and per day, face value, claims per
 * customer); GET shows it with its funnel (claims → redemptions → conversions, cost, cost per acquisition, ROI,
 * per day and per channel); PATCH changes its status, window or budget (the next claim follows the change).
 * Claims: ./campaign-claims.ts.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  type CampaignRow,
  campaignClaimRows,
  campaignInSubtree,
  insertCampaign,
  listCampaigns,
  replaceCampaign,
} from "../db/campaigns";
import { getProducts } from "../db/products";
import { businessDay, businessOffsetMs } from "../domain/analytics-range";
import { funnel } from "../domain/campaigns";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import { visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { badRequest, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { commonErrors, errorResponses, IsoDate, idParam, json, jsonBody, listOf, PageQuery, page } from "./schemas";

export const campaignsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Campaigns"];

const Count = (max: number) => z.number().int().min(1).max(max);
const Budget = {
  max_claims: Count(10_000_000).openapi({ description: "Claims in total" }),
  daily_max: Count(10_000_000).nullable().optional().openapi({ description: "Claims per business day" }),
  max_amount: z.number().int().min(1).max(1_000_000_000_000).nullable().optional().openapi({
    description: "Face value handed out at most (minor units): claims × the product's price",
  }),
};
const ConsumerClaims = z.boolean().openapi({
  description:
    "Let consumers claim from a browser (POST /v1/public/campaigns/{id}/claims with a publishable key; Turnstile where TURNSTILE_SECRET is set; a budget per IP)",
});
const CampaignCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    product_id: z.string().regex(/^prd_[a-z0-9]{1,40}$/),
    channel_id: z
      .string()
      .regex(/^chn_[a-z0-9_]{1,40}$/)
      .optional()
      .openapi({ description: "The channel whose pool the codes come from (default: the merchant's own)" }),
    starts_at: IsoDate,
    ends_at: IsoDate,
    validity_days: Count(3650).default(7).openapi({ description: "A claimed code is valid this many days" }),
    per_customer_max: Count(1000).default(1),
    grant_on: z.enum(["customer.registered"]).nullable().optional().openapi({
      description: "Grant a claim automatically when a partner posts this event for a customer (POST /v1/events)",
    }),
    consumer_claims: ConsumerClaims.default(false),
    ...Budget,
  })
  .strict()
  .openapi("CampaignCreate");
const CampaignPatch = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    status: z.enum(["active", "paused", "archived"]).optional(),
    ends_at: IsoDate.optional(),
    grant_on: z.enum(["customer.registered"]).nullable().optional(),
    consumer_claims: ConsumerClaims.optional(),
    max_claims: Budget.max_claims.optional(),
    daily_max: Budget.daily_max,
    max_amount: Budget.max_amount,
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "nothing to change")
  .openapi("CampaignPatch");

const FunnelSchema = z.object({
  claims: z.number(),
  redemptions: z.number(),
  claim_to_redeem_rate: z.number().nullable(),
  median_time_to_redeem_seconds: z.number().nullable(),
  conversions: z.number(),
  conversion_value: z.number(),
  cost: z.number().openapi({ description: "Face value of the codes redeemed" }),
  cost_per_acquisition: z.number().nullable(),
  roi: z.number().nullable().openapi({ description: "(conversion value − cost) / cost" }),
});
const CampaignSchema = z
  .object({
    id: z.string(),
    object: z.literal("campaign"),
    name: z.string(),
    status: z.enum(["active", "paused", "archived"]),
    product_id: z.string(),
    channel_id: z.string(),
    starts_at: z.string(),
    ends_at: z.string(),
    validity_days: z.number(),
    per_customer_max: z.number(),
    grant_on: z.enum(["customer.registered"]).nullable(),
    consumer_claims: z.boolean(),
    max_claims: z.number(),
    daily_max: z.number().nullable(),
    max_amount: z.number().nullable(),
    face_value: z.number(),
    currency: z.string(),
    created_at: z.string(),
    funnel: FunnelSchema.optional(),
    by_day: z.array(FunnelSchema.extend({ day: z.string() })).optional(),
    by_channel: z.array(FunnelSchema.extend({ channel_id: z.string() })).optional(),
  })
  .openapi("Campaign");

const iso = (ms: number) => new Date(ms).toISOString();
const view = (c: CampaignRow) => ({
  id: c.id,
  object: "campaign" as const,
  name: c.name,
  status: c.status,
  product_id: c.product_id,
  channel_id: c.channel_id,
  starts_at: iso(c.starts_at),
  ends_at: iso(c.ends_at),
  validity_days: c.validity_days,
  per_customer_max: c.per_customer_max,
  grant_on: c.grant_on,
  consumer_claims: c.consumer_claims === 1,
  max_claims: c.max_claims,
  daily_max: c.daily_max,
  max_amount: c.max_amount,
  face_value: c.face_value,
  currency: c.currency,
  created_at: iso(c.created_at),
});

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
  return m;
}

campaignsApp.openapi(
  createRoute({
    method: "post",
    path: "/campaigns",
    tags,
    summary: "Create a trial-code campaign (the merchant's)",
    request: { body: jsonBody(CampaignCreate) },
    responses: { 201: json(CampaignSchema, "The campaign"), ...commonErrors, ...errorResponses(422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:write");
    const b = c.req.valid("json");
    const [starts, ends] = [Date.parse(b.starts_at), Date.parse(b.ends_at)];
    if (ends <= starts) throw badRequest("`ends_at` must be after `starts_at`");
    const channel = await visibleChannel(c.env.DB, auth, b.channel_id ?? ROOT_CHANNEL_ID);
    const product = (await getProducts(c.env.DB, [b.product_id])).get(b.product_id);
    if (!product) throw notFound("product");
    if (product.kind === "topup")
      throw unprocessable("product_kind", "a campaign hands out codes: not a top-up product");
    const now = Date.now();
    const row: CampaignRow = {
      id: newId("cmp", now),
      channel_id: channel.id,
      product_id: product.id,
      name: b.name,
      status: "active",
      starts_at: starts,
      ends_at: ends,
      validity_days: b.validity_days,
      max_claims: b.max_claims,
      daily_max: b.daily_max ?? null,
      max_amount: b.max_amount ?? null,
      face_value: product.face_value ?? product.price,
      currency: product.currency,
      per_customer_max: b.per_customer_max,
      grant_on: b.grant_on ?? null,
      consumer_claims: b.consumer_claims ? 1 : 0,
      created_at: now,
      updated_at: now,
    };
    await insertCampaign(c.env.DB, row);
    return c.json(view(row), 201);
  },
);

campaignsApp.openapi(
  createRoute({
    method: "get",
    path: "/campaigns",
    tags,
    summary: "Campaigns of the caller's subtree, newest first",
    request: { query: PageQuery },
    responses: { 200: json(listOf(CampaignSchema, "CampaignList"), "A page of campaigns"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const q = c.req.valid("query");
    const rows = await listCampaigns(c.env.DB, auth.path, q.cursor, q.limit);
    return c.json(page(rows.map(view), q.limit), 200);
  },
);

campaignsApp.openapi(
  createRoute({
    method: "get",
    path: "/campaigns/{id}",
    tags,
    summary: "A campaign with its funnel: claims, redemptions, conversions, cost, ROI; per day and per channel",
    request: { params: idParam("cmp") },
    responses: { 200: json(CampaignSchema, "The campaign"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const campaign = await campaignInSubtree(c.env.DB, c.req.valid("param").id, auth.path);
    if (!campaign) throw notFound("campaign");
    const rows = await campaignClaimRows(c.env.DB, campaign.id);
    const offset = businessOffsetMs(c.env.ANALYTICS_TZ_OFFSET_MINUTES);
    const days = groupBy(rows, (r) => String(businessDay(r.claimed_at, offset)));
    return c.json(
      {
        ...view(campaign),
        funnel: funnel(rows, campaign.face_value),
        by_day: [...days].map(([d, rs]) => ({ day: iso(Number(d)), ...funnel(rs, campaign.face_value) })),
        by_channel: [...groupBy(rows, (r) => r.channel_id)].map(([channel_id, rs]) => ({
          channel_id,
          ...funnel(rs, campaign.face_value),
        })),
      },
      200,
    );
  },
);

campaignsApp.openapi(
  createRoute({
    method: "patch",
    path: "/campaigns/{id}",
    tags,
    summary: "Pause, resume or archive a campaign, move its end, or change its budget",
    request: { params: idParam("cmp"), body: jsonBody(CampaignPatch) },
    responses: { 200: json(CampaignSchema, "The campaign"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:write");
    const campaign = await campaignInSubtree(c.env.DB, c.req.valid("param").id, auth.path);
    if (!campaign) throw notFound("campaign");
    const b = c.req.valid("json");
    const next: CampaignRow = {
      ...campaign,
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.status !== undefined ? { status: b.status } : {}),
      ...(b.grant_on !== undefined ? { grant_on: b.grant_on } : {}),
      ...(b.consumer_claims !== undefined ? { consumer_claims: b.consumer_claims ? 1 : 0 } : {}),
      ...(b.ends_at !== undefined ? { ends_at: Date.parse(b.ends_at) } : {}),
      ...(b.max_claims !== undefined ? { max_claims: b.max_claims } : {}),
      ...(b.daily_max !== undefined ? { daily_max: b.daily_max } : {}),
      ...(b.max_amount !== undefined ? { max_amount: b.max_amount } : {}),
      updated_at: Date.now(),
    };
    if (next.ends_at <= next.starts_at) throw badRequest("`ends_at` must be after `starts_at`");
    await replaceCampaign(c.env.DB, next);
    return c.json(view(next), 200);
  },
);
