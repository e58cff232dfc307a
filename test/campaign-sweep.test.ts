/**
 * Reservations a dead Worker left behind (the Campaign object reserved, nothing placed the order): the cron's
 * sweep finishes them with the same order a replay would place, or gives the place back when no code is left.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CampaignRow } from "../src/db/campaigns";
import { rulesOf, STALE_RESERVATION_MS, sweepReservations } from "../src/lib/campaign-claim";
import { campaignObject } from "../src/objects/campaign";
import { call, idemKey, productWithCodes } from "./helpers";

const iso = (ms: number) => new Date(ms).toISOString();

async function campaignWith(productId: string, maxClaims: number) {
  const res = await call("POST", "/v1/campaigns", {
    name: "sweep",
    product_id: productId,
    starts_at: iso(Date.now() - 3_600_000),
    ends_at: iso(Date.now() + 3_600_000),
    max_claims: maxClaims,
  });
  expect(res.status, res.text).toBe(201);
  return (await env.DB.prepare("SELECT * FROM campaigns WHERE id = ?1").bind(res.json.id).first<CampaignRow>())!;
}

/** What a Worker that died right after the reservation leaves: a reserved claim, no order, no D1 row. */
async function abandonedReservation(campaign: CampaignRow, customer: string, key: string) {
  const at = Date.now() - STALE_RESERVATION_MS - 60_000;
  const decision = await campaignObject(env, campaign.id).claim(rulesOf(campaign), {
    claimId: `clm_${crypto.randomUUID().replace(/-/g, "").slice(0, 24)}`,
    customerRef: customer,
    idemKey: key,
    now: at,
    dayOffsetMs: 8 * 3_600_000,
  });
  expect(decision.kind).toBe("new");
  return decision.kind === "new" ? decision.claim : null;
}

describe("the reservation sweep", () => {
  it("finishes an abandoned claim with its order, keeps the budget exact, and is idempotent", async () => {
    const product = await productWithCodes(5, { price: 800 });
    const campaign = await campaignWith(product.id, 2);
    const key = idemKey("dead");
    const claim = (await abandonedReservation(campaign, "ghost", key))!;
    // The abandoned reservation holds its place: one more customer fits, the next does not.
    const claimFor = (customer: string) =>
      call(
        "POST",
        `/v1/campaigns/${campaign.id}/claims`,
        { customer_ref: customer },
        { headers: { "idempotency-key": idemKey("c") } },
      );
    expect((await claimFor("alive")).status).toBe(201);
    expect((await claimFor("late")).json.error.code).toBe("budget_exhausted");

    expect(await sweepReservations(env)).toBeGreaterThanOrEqual(1);
    expect(await campaignObject(env, campaign.id).counts()).toEqual({ reserved: 0, issued: 2 });
    const read = await call("GET", `/v1/campaigns/${campaign.id}/claims/${claim.id}`);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ customer_ref: "ghost", order_id: expect.stringMatching(/^ord_/) });
    expect(read.json.code.code).toBeTruthy();
    // Again: nothing left to settle here; a replay of the key gives the same claim and order.
    expect(await campaignObject(env, campaign.id).staleReservations(Date.now())).toEqual([]);
    const replay = await call(
      "POST",
      `/v1/campaigns/${campaign.id}/claims`,
      { customer_ref: "ghost" },
      { headers: { "idempotency-key": key } },
    );
    expect(replay.json).toMatchObject({ id: claim.id, order_id: read.json.order_id });
  });

  it("gives the place back when no code is left for the abandoned claim", async () => {
    const product = await productWithCodes(0, { price: 800 });
    const campaign = await campaignWith(product.id, 1);
    await abandonedReservation(campaign, "ghost-2", idemKey("dead"));
    await sweepReservations(env);
    expect(await campaignObject(env, campaign.id).counts()).toEqual({ reserved: 0, issued: 0 });
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM campaign_claims WHERE campaign_id = ?1")
      .bind(campaign.id)
      .first<{ n: number }>();
    expect(row!.n).toBe(0);
  });
});
