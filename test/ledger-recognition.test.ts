/**
 * Revenue recognition in the ledger: a redemption recognises the merchant's deferred share, a reversal takes its
 * part back, and redemptions or reversals that arrive before what they depend on are parked, then posted once.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ledgerParked, ledgerRecognition } from "../src/db/ledger";
import { ROOT_CHANNEL_ID } from "../src/domain/ids";
import { ledgerStatements } from "../src/queues/ledger";
import { allocate, createChannel, keyFor, orderAs, setEntry, topUp } from "./channel-fixtures";
import { call, eventually, productWithCodes } from "./helpers";
import { deliver, entriesOf, ev, expectBalancedLedger, orderOf, poolEv } from "./ledger-fixtures";

describe("ledger: revenue recognition", { timeout: 180_000 }, () => {
  it("recognition on redemption: 3 codes redeemed at once recognise exactly the share; a reversal takes back its part; redelivery posts once", async () => {
    const product = await productWithCodes(10, { price: 334 });
    const ch = await createChannel("Recognise", "partner");
    await setEntry(ch.id, product.id, {});
    await allocate(product.id, ch.id, 5);
    await call("PUT", `/v1/channels/${ch.id}/settlement`, { bps: 1000 });
    await topUp(ch.id, 5000);
    const o = await orderAs(await keyFor(ch.id), product.id, 3);
    expect(o.status).toBe(201);
    const orderId = o.json.id as string;
    const share = 1002 - 100; // 10 % commission; the merchant's 902 is deferred at sale
    expect(
      await eventually(
        () => ledgerRecognition(env.DB, orderId),
        (r) => r.deferred === share,
      ),
    ).toEqual({ deferred: share, recognised: 0 });
    const redeemed = await Promise.all(
      (o.json.items[0].codes as { code: string }[]).map((c) => call("POST", "/v1/redemptions", { code: c.code })),
    );
    expect(redeemed.map((r) => r.status)).toEqual([201, 201, 201]);
    // A later batch (any event) posts a recognition that lost a race with another consumer and was parked: nudge with an empty one.
    const settled = await eventually(
      async () => {
        await deliver([]);
        return ledgerRecognition(env.DB, orderId);
      },
      (r) => r.recognised === share,
      30_000,
    );
    expect(settled).toEqual({ deferred: 0, recognised: share });
    const recognitions = async () =>
      (
        await env.DB.prepare(
          `SELECT t.source_key, -e.amount AS amount FROM ledger_transactions t JOIN ledger_entries e ON e.txn_id = t.id
       WHERE t.order_id = ?1 AND t.type LIKE 'recognition%' AND e.account_id = 'merchant:revenue' ORDER BY t.source_key`,
        )
          .bind(orderId)
          .all<{ source_key: string; amount: number }>()
      ).results;
    expect((await recognitions()).map((r) => r.amount).sort()).toEqual([300, 300, 302]); // floor(902 / 3) twice, the last unit the rest
    // Reverse one: revenue drops by exactly what that redemption recognised.
    const victim = redeemed[1].json.id as string;
    const itsPart = (await recognitions()).find((r) => r.source_key === `recognise:${victim}`)!.amount;
    expect((await call("POST", `/v1/redemptions/${victim}/reverse`)).status).toBe(200);
    expect(
      await eventually(
        () => ledgerRecognition(env.DB, orderId),
        (r) => r.recognised === share - itsPart,
      ),
    ).toEqual({ deferred: itsPart, recognised: share - itsPart });
    expect((await recognitions()).find((r) => r.source_key === `unrecognise:${victim}`)!.amount).toBe(-itsPart);
    // Redelivery (new event ids, same redemptions: the source keys dedupe) posts nothing more.
    const again = [
      ...redeemed.map((r) =>
        poolEv("code.redeemed", {
          redemption_id: r.json.id,
          order_id: orderId,
          channel_id: ch.id,
          last4: "0000",
          code_index: "x",
          redeemed_at: "2026-03-01T10:00:00.000Z",
        }),
      ),
      poolEv("code.redemption_reversed", {
        redemption_id: victim,
        order_id: orderId,
        last4: "0000",
        code_index: "x",
        reversed_at: "2026-03-01T10:01:00.000Z",
      }),
    ];
    expect((await deliver(again)).retryMessages).toEqual([]);
    await deliver([...again].reverse());
    expect((await recognitions()).length).toBe(4);
    expect(await ledgerRecognition(env.DB, orderId)).toEqual({ deferred: itsPart, recognised: share - itsPart });
    // Redeemed again: the last unit again takes the rest, the order recognises its share exactly.
    const code = (o.json.items[0].codes as { code: string }[])[1].code;
    expect((await call("POST", "/v1/redemptions", { code })).status).toBe(201);
    expect(
      await eventually(
        () => ledgerRecognition(env.DB, orderId),
        (r) => r.recognised === share,
      ),
    ).toEqual({ deferred: 0, recognised: share });
    await expectBalancedLedger();
  });
  it("a redemption before its sale is parked, then posted; in one batch a reversal and two redemptions post in sequence; root orders post nothing", async () => {
    const ch = await createChannel("RecogniseEarly", "partner");
    await call("PUT", `/v1/channels/${ch.id}/settlement`, { bps: 1000 });
    const twoUnits = (id: string, status = "fulfilled", channelId = ch.id) => ({
      ...orderOf(id, channelId, 700, status),
      items: [{ product_id: "prd_led", quantity: 2, unit_price: 350, amount: 700 }],
    });
    const redeem = (rid: string, orderId: string) =>
      poolEv("code.redeemed", {
        redemption_id: rid,
        order_id: orderId,
        channel_id: ch.id,
        last4: "1234",
        code_index: `i_${rid}`,
        redeemed_at: "2026-03-01T10:05:00.000Z",
      });
    const reverse = (rid: string, orderId: string) =>
      poolEv("code.redemption_reversed", {
        redemption_id: rid,
        order_id: orderId,
        last4: "1234",
        code_index: `i_${rid}`,
        reversed_at: "2026-03-01T10:06:00.000Z",
      });
    const parkedFor = async (orderId: string) => (await ledgerParked(env.DB)).filter((p) => p.order_id === orderId);
    const early = redeem("rdm_early1", "ord_rec_early");
    expect((await deliver([early])).retryMessages).toEqual([]);
    await deliver([early]); // redelivered while parked: parked once
    expect((await parkedFor("ord_rec_early")).map((p) => p.reason)).toEqual(["redemption_before_sale"]);
    expect(await entriesOf("ord_rec_early")).toEqual([]);
    await deliver([
      ev("order.paid", {
        order: twoUnits("ord_rec_early"),
        payment: { method: "balance", amount: 700, currency: "CNY" },
      }),
    ]);
    expect(await parkedFor("ord_rec_early")).toEqual([]);
    expect(await ledgerRecognition(env.DB, "ord_rec_early")).toEqual({ deferred: 630 - 315, recognised: 315 });
    // One batch: the early one reversed, two more redeemed (2 units): −315, +315, then the last unit +315.
    await deliver([
      reverse("rdm_early1", "ord_rec_early"),
      redeem("rdm_early2", "ord_rec_early"),
      redeem("rdm_early3", "ord_rec_early"),
    ]);
    expect(
      (await entriesOf("ord_rec_early"))
        .filter((e) => e.account_id === "merchant:revenue")
        .map((e) => [e.type, e.amount]),
    ).toEqual([
      ["recognition", -315],
      ["recognition", -315],
      ["recognition", -315],
      ["recognition_reversal", 315],
    ]);
    expect(await ledgerRecognition(env.DB, "ord_rec_early")).toEqual({ deferred: 0, recognised: 630 });
    // A reversal before its redemption waits for the recognition, then posts its exact negative.
    await deliver([reverse("rdm_early2", "ord_rec_early")]);
    expect((await parkedFor("ord_rec_early")).map((p) => p.reason)).toEqual([]); // rdm_early2's recognition is posted: reversed at once
    await deliver([reverse("rdm_late", "ord_rec_early")]);
    expect((await parkedFor("ord_rec_early")).map((p) => p.reason)).toEqual(["reversal_before_recognition"]);
    await deliver([redeem("rdm_late", "ord_rec_early")]);
    await deliver([]);
    expect(await parkedFor("ord_rec_early")).toEqual([]);
    expect(await ledgerRecognition(env.DB, "ord_rec_early")).toEqual({ deferred: 315, recognised: 315 });
    // Two consumers at once: A is computed from a state that B changes before A commits; A's guard fails inside
    // the D1 transaction, A is parked and recomputed by the next batch as the last unit (631 = 315 + 316, not 630).
    const odd = {
      ...orderOf("ord_rec_race", ch.id, 701),
      items: [{ product_id: "prd_led", quantity: 2, unit_price: 350, amount: 701 }],
    };
    await deliver([ev("order.paid", { order: odd, payment: { method: "balance", amount: 701, currency: "CNY" } })]);
    const stale = await ledgerStatements(env, [redeem("rdm_raceA", "ord_rec_race")]);
    await deliver([redeem("rdm_raceB", "ord_rec_race")]);
    await env.DB.batch(stale);
    expect((await parkedFor("ord_rec_race")).map((p) => p.reason)).toEqual(["recognition_retry"]);
    expect(await ledgerRecognition(env.DB, "ord_rec_race")).toEqual({ deferred: 631 - 315, recognised: 315 });
    await deliver([]);
    expect(await parkedFor("ord_rec_race")).toEqual([]);
    expect(await ledgerRecognition(env.DB, "ord_rec_race")).toEqual({ deferred: 0, recognised: 631 });
    // Root orders take no money: a redemption of a known root order posts nothing; an early one is dropped once the order is seen.
    await deliver([
      ev("order.fulfilled", { order: twoUnits("ord_rec_root", "fulfilled", ROOT_CHANNEL_ID) }),
      redeem("rdm_root1", "ord_rec_root"),
    ]);
    expect(await parkedFor("ord_rec_root")).toEqual([]);
    await deliver([redeem("rdm_root2", "ord_rec_root2")]);
    expect((await parkedFor("ord_rec_root2")).length).toBe(1);
    await deliver([ev("order.fulfilled", { order: twoUnits("ord_rec_root2", "fulfilled", ROOT_CHANNEL_ID) })]);
    await deliver([]);
    expect(await parkedFor("ord_rec_root2")).toEqual([]);
    // An order that never gets a sale: dropped after the grace period.
    await deliver([redeem("rdm_nosale", "ord_rec_nosale")]);
    await env.DB.prepare("UPDATE ledger_pending SET drop_after = 0 WHERE order_id = 'ord_rec_nosale'").run();
    await deliver([]);
    expect(await parkedFor("ord_rec_nosale")).toEqual([]);
    expect([
      ...(await entriesOf("ord_rec_root")),
      ...(await entriesOf("ord_rec_root2")),
      ...(await entriesOf("ord_rec_nosale")),
    ]).toEqual([]);
    await expectBalancedLedger();
  });
});
