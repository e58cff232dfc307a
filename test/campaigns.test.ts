/**
 * Trial-code campaigns: claims exact under any concurrency (the budget, each customer's limit, the window),
 * idempotent, never charged, and a funnel that counts the claims and redemptions actually made.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src";
import { campaignObject } from "../src/objects/campaign";
import type { GrantMessage } from "../src/queues/campaign-grants";
import { createChannel, keyFor } from "./channel-fixtures";
import { call, clockPast, eventually, generate, idemKey, productWithCodes } from "./helpers";
import { eventsDrained } from "./pipeline-fixtures";
import { hookKey, ofType, subscribe, waitForRequests } from "./webhook-fixtures";

let productId: string;
const iso = (ms: number) => new Date(ms).toISOString();

async function campaign(overrides: Record<string, unknown> = {}, product = productId) {
  const res = await call("POST", "/v1/campaigns", {
    name: "7-day trial",
    product_id: product,
    starts_at: iso(Date.now() - 60_000),
    ends_at: iso(Date.now() + 3600_000),
    validity_days: 7,
    max_claims: 300,
    ...overrides,
  });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; face_value: number };
}

const claim = (id: string, customer: string, key = idemKey("clm"), token?: string) =>
  call(
    "POST",
    `/v1/campaigns/${id}/claims`,
    { customer_ref: customer },
    { token, headers: { "idempotency-key": key } },
  );

beforeAll(async () => {
  productId = (await productWithCodes(1_200, { name: "Trial week", price: 990 })).id;
});

describe("campaign claims", () => {
  it("hands out exactly the budget to 1,000 customers claiming at once, each code once", async () => {
    const c = await campaign({ max_claims: 300 });
    const answers = await Promise.all(Array.from({ length: 1_000 }, (_, i) => claim(c.id, `cust-${i}`)));
    const granted = answers.filter((a) => a.status === 201);
    expect(granted).toHaveLength(300);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused).toHaveLength(700);
    for (const r of refused) expect(r.json.error.code).toBe("budget_exhausted");
    const codes = granted.map((g) => g.json.code.code);
    expect(new Set(codes).size).toBe(300);
    // Each code valid exactly 7 days from its claim, however long the claim took under load.
    for (const { json: g } of granted) expect(Date.parse(g.expires_at) - Date.parse(g.claimed_at)).toBe(7 * 86_400_000);
    expect(await campaignObject(env, c.id).counts()).toEqual({ reserved: 0, issued: 300 });
    // No money moved: a claim is free to the customer and to the channel.
    await eventsDrained();
    const sales = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM ledger_transactions WHERE type = 'sale' AND order_id IN (SELECT order_id FROM campaign_claims WHERE campaign_id = ?1)",
    )
      .bind(c.id)
      .first<{ n: number }>();
    expect(sales!.n).toBe(0);
  });

  it("gives one customer one claim however many keys race, and the same claim for the same key", async () => {
    const c = await campaign({ max_claims: 50 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => claim(c.id, "eager-customer")));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 201)) expect(a.json.error.code).toBe("already_claimed");
    const key = idemKey("same");
    const other = await Promise.all([claim(c.id, "patient", key), claim(c.id, "patient", key)]);
    expect(other.map((o) => o.status)).toEqual([201, 201]);
    expect(other[0].json.id).toBe(other[1].json.id);
    expect(other[0].json.code.code).toBe(other[1].json.code.code);
    const again = await claim(c.id, "patient", key);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json.code.code).toBe(other[0].json.code.code);
    expect((await claim(c.id, "someone-else", key)).json.error.code).toBe("idempotency_mismatch");
    // The partner reads the claim (and its code) again by id.
    const read = await call("GET", `/v1/campaigns/${c.id}/claims/${again.json.id}`);
    expect(read.status).toBe(200);
    expect(read.json.code.code).toBe(other[0].json.code.code);
  });

  it("refuses outside the window, when paused, and at the daily and money caps", async () => {
    const later = await campaign({ starts_at: iso(Date.now() + 3600_000), ends_at: iso(Date.now() + 7200_000) });
    expect((await claim(later.id, "early")).json.error.code).toBe("campaign_not_started");
    expect((await claim(later.id, "early")).status).toBe(422);
    const money = await campaign({ max_claims: 100, max_amount: 2 * 990 });
    expect((await claim(money.id, "m1")).status).toBe(201);
    expect((await claim(money.id, "m2")).status).toBe(201);
    expect((await claim(money.id, "m3")).json.error.code).toBe("budget_exhausted");
    const daily = await campaign({ max_claims: 100, daily_max: 1 });
    expect((await claim(daily.id, "d1")).status).toBe(201);
    expect((await claim(daily.id, "d2")).json.error.code).toBe("budget_exhausted");
    // Raising the budget applies to the next claim, the counts stay exact.
    expect((await call("PATCH", `/v1/campaigns/${daily.id}`, { daily_max: 2 })).status).toBe(200);
    expect((await claim(daily.id, "d2")).status).toBe(201);
    expect((await call("PATCH", `/v1/campaigns/${daily.id}`, { status: "paused" })).status).toBe(200);
    expect((await claim(daily.id, "d3")).json.error.code).toBe("campaign_paused");
    // A paused product stops handing out codes through campaigns too, and the refusal uses no budget.
    const paused = (await productWithCodes(5, { name: "Paused trial", price: 100 })).id;
    const pc = await campaign({ max_claims: 1 }, paused);
    expect((await call("PATCH", `/v1/products/${paused}`, { status: "paused" })).status).toBe(200);
    expect((await claim(pc.id, "p1")).json.error.code).toBe("product_inactive");
    expect((await call("PATCH", `/v1/products/${paused}`, { status: "active" })).status).toBe(200);
    expect((await claim(pc.id, "p1")).status).toBe(201);
  });

  it("grants nothing at or after the end of the window, even to claims racing it", async () => {
    const ends = Date.now() + 400;
    const c = await campaign({ ends_at: iso(ends), max_claims: 10_000 });
    const answers: { status: number; json: any }[] = [];
    let i = 0;
    // Waves of claims until the window has closed under them.
    while (Date.now() < ends + 200)
      answers.push(...(await Promise.all(Array.from({ length: 10 }, () => claim(c.id, `racer-${i++}`)))));
    await clockPast(ends);
    expect((await claim(c.id, "late")).status).toBe(410);
    for (const a of answers) expect([201, 410]).toContain(a.status);
    for (const a of answers.filter((x) => x.status === 201)) expect(Date.parse(a.json.claimed_at)).toBeLessThan(ends);
  });

  it("gives the budget back when no code is left", async () => {
    const scarce = (await productWithCodes(2, { name: "Scarce trial", price: 100 })).id;
    const c = await campaign({ max_claims: 5 }, scarce);
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => claim(c.id, `s-${i}`)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(2);
    for (const a of answers.filter((x) => x.status !== 201)) expect(a.json.error.code).toBe("out_of_stock");
    expect(await campaignObject(env, c.id).counts()).toEqual({ reserved: 0, issued: 2 });
    // The released places are free again: with new stock, exactly 3 more claims fit the budget of 5.
    await generate(scarce, 10);
    const more = await Promise.all(Array.from({ length: 6 }, (_, i) => claim(c.id, `t-${i}`)));
    expect(more.filter((a) => a.status === 201)).toHaveLength(3);
    for (const a of more.filter((x) => x.status !== 201)) expect(a.json.error.code).toBe("budget_exhausted");
  });

  it("counts the funnel from the claims, redemptions and conversions actually made", async () => {
    const c = await campaign({ max_claims: 10 });
    const granted = await Promise.all(Array.from({ length: 6 }, (_, i) => claim(c.id, `f-${i}`)));
    for (const g of granted) expect(g.status).toBe(201);
    const redeemed = await Promise.all(
      granted.slice(0, 4).map((g) => call("POST", "/v1/redemptions", { code: g.json.code.code })),
    );
    for (const r of redeemed) expect(r.status).toBe(201);
    await eventsDrained();
    // Conversions: f-0 twice under one key at once (credited once), f-1 once, a stranger (nothing to credit).
    const convert = (customer: string, value: number, key = idemKey("cv")) =>
      call(
        "POST",
        "/v1/events",
        { type: "conversion", customer_ref: customer, value },
        { headers: { "idempotency-key": key } },
      );
    const key = idemKey("cv-same");
    const twice = await Promise.all([convert("f-0", 5_000, key), convert("f-0", 5_000, key)]);
    expect(twice.map((t) => t.status)).toEqual([202, 202]);
    expect(twice.map((t) => t.json.credited_claims).sort()).toEqual([0, 1]);
    expect((await convert("f-0", 9_999, key)).json.error.code).toBe("idempotency_mismatch");
    expect((await convert("f-1", 3_000)).json.credited_claims).toBe(1);
    expect((await convert("stranger", 3_000)).json.credited_claims).toBe(0);
    const res = await call("GET", `/v1/campaigns/${c.id}`);
    expect(res.status).toBe(200);
    const cost = 4 * 990;
    expect(res.json.funnel).toMatchObject({
      claims: 6,
      redemptions: 4,
      claim_to_redeem_rate: Math.round((4 / 6) * 10_000) / 10_000,
      cost,
      conversions: 2,
      conversion_value: 8_000,
      cost_per_acquisition: Math.round(cost / 2),
      roi: Math.round(((8_000 - cost) / cost) * 10_000) / 10_000,
    });
    expect(res.json.funnel.median_time_to_redeem_seconds).toBeGreaterThanOrEqual(0);
    expect(res.json.by_channel).toEqual([expect.objectContaining({ channel_id: "chn_root", claims: 6 })]);
    expect(res.json.by_day.reduce((n: number, d: { claims: number }) => n + d.claims, 0)).toBe(6);
    const rows = await env.DB.prepare("SELECT * FROM campaign_claims WHERE campaign_id = ?1").bind(c.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(granted[0].json.code.code);
  });

  it("keeps a campaign inside its subtree and answers bad input with 4xx", async () => {
    const c = await campaign({ max_claims: 5 });
    const store = await createChannel("Campaign outsider", "store");
    const key = await keyFor(store.id);
    expect((await call("GET", `/v1/campaigns/${c.id}`, undefined, { token: key })).status).toBe(404);
    expect((await claim(c.id, "x", idemKey(), key)).status).toBe(404);
    expect((await call("GET", "/v1/campaigns", undefined, { token: key })).json.data).toEqual([]);
    for (const body of [
      {},
      { name: "x", product_id: productId, starts_at: iso(Date.now()), ends_at: iso(Date.now() - 1), max_claims: 1 },
      { name: "x", product_id: productId, starts_at: "soon", ends_at: iso(Date.now()), max_claims: 1 },
      { name: "x", product_id: productId, starts_at: iso(0), ends_at: iso(Date.now()), max_claims: 0 },
      { name: "x", product_id: "prd_missing0", starts_at: iso(0), ends_at: iso(Date.now()), max_claims: 1 },
    ]) {
      const res = await call("POST", "/v1/campaigns", body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.json.error.code).toBeTypeOf("string");
    }
    expect((await call("POST", `/v1/campaigns/${c.id}/claims`, { customer_ref: "a" })).status).toBe(400);
    expect((await claim(c.id, "")).status).toBe(400);
  });
});

describe("auto-grant on customer.registered", () => {
  it("claims once per registered customer through the queue, after redelivery too, and announces claim ids only", async () => {
    // The local receiver (real HTTP, checks the signature): every campaign.claimed is delivered there.
    const hookName = hookKey("campaigns");
    await subscribe(hookName, ["campaign.*"]);
    const c = await campaign({ max_claims: 1_000, grant_on: "customer.registered" });
    const register = (customer: string, key = idemKey("reg")) =>
      call(
        "POST",
        "/v1/events",
        { type: "customer.registered", customer_ref: customer },
        { headers: { "idempotency-key": key } },
      );
    const posted = await Promise.all(Array.from({ length: 200 }, (_, i) => register(`new-user-${i}`)));
    for (const p of posted) expect(p.status, p.text).toBe(202);
    const claims = async () => (await call("GET", `/v1/campaigns/${c.id}`)).json.funnel.claims as number;
    // The queue delivers in batches; on a loaded 2-core machine 200 grants can take longer than the default 30 s.
    expect(await eventually(claims, (n) => n === 200, 120_000)).toBe(200);
    // The same events again: posted again (a partner's retry) and delivered again to the consumer directly.
    await register("new-user-0", "same-key-0");
    await register("new-user-0", "same-key-0");
    const batch = createMessageBatch<GrantMessage>(
      "voucher-campaigns",
      posted.slice(0, 50).map((p, i) => ({
        id: `g${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: { event_id: p.json.id, path: "/chn_root/", customer_ref: p.json.customer_ref },
      })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch as unknown as MessageBatch<never>, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(50);
    await eventually(
      async () => (await campaignObject(env, c.id).counts()).reserved,
      (n) => n === 0,
    );
    expect(await claims()).toBe(200);
    expect(await campaignObject(env, c.id).counts()).toEqual({ reserved: 0, issued: 200 });
    // One campaign.claimed per claim, carrying the claim id and never the code.
    const announced = await env.DB.prepare(
      "SELECT body FROM webhook_events WHERE type = 'campaign.claimed' AND source = ?1",
    )
      .bind(`campaign:${c.id}`)
      .all<{ body: string }>();
    expect(announced.results).toHaveLength(200);
    const first = JSON.parse(announced.results[0].body);
    expect(first.data.claim_id).toMatch(/^clm_/);
    const read = await call("GET", `/v1/campaigns/${c.id}/claims/${first.data.claim_id}`);
    expect(read.status).toBe(200);
    expect(announced.results.map((r) => r.body).join("")).not.toContain(read.json.code.code);
    const delivered = await waitForRequests(hookName, (r) => ofType(r, "campaign.claimed").length >= 200);
    expect(new Set(ofType(delivered, "campaign.claimed").map((r) => r.body.data.claim_id)).size).toBe(200);
  }, 180_000);
});
