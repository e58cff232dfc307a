/** The consumer's order timeline (domain/order-timeline.ts): which steps are done, for every way an order goes. */
import { describe, expect, it } from "vitest";
import { orderTimeline, type TimelineInput } from "../../src/domain/order-timeline";

const base: TimelineInput = {
  status: "pending_payment",
  updated_at: 1_000,
  paid: false,
  paid_at: null,
  revealed_at: null,
  refunded_after_issue: false,
  codes: [],
  quantity: 2,
  now: 10_000,
};
const code = (status: string, extra: Partial<TimelineInput["codes"][number]> = {}) => ({
  status,
  expires_at: null,
  issued_at: 2_000,
  redeemed_at: null,
  ...extra,
});
const done = (input: Partial<TimelineInput>) =>
  orderTimeline({ ...base, ...input })
    .filter((s) => s.state === "done")
    .map((s) => s.step);

describe("orderTimeline", () => {
  it("waits for payment, and ends unpaid as cancelled", () => {
    expect(orderTimeline(base).map((s) => [s.step, s.state])).toEqual([
      ["paid", "pending"],
      ["issued", "pending"],
      ["revealed", "pending"],
      ["redeemed", "pending"],
    ]);
    expect(done({ status: "cancelled", updated_at: 5_000 })).toEqual(["cancelled"]);
  });

  it("follows a paid order through issue, reveal and partial then full redemption", () => {
    const paid = { status: "fulfilled", paid: true, paid_at: 1_500 };
    expect(done({ ...paid, codes: [code("issued"), code("issued")] })).toEqual(["paid", "issued"]);
    const partly = orderTimeline({
      ...base,
      ...paid,
      revealed_at: 3_000,
      codes: [code("redeemed", { redeemed_at: 4_000 }), code("issued")],
    });
    expect(partly.find((s) => s.step === "redeemed")).toEqual({
      step: "redeemed",
      state: "pending",
      at: null,
      count: 1,
      of: 2,
    });
    const all = orderTimeline({
      ...base,
      ...paid,
      revealed_at: 3_000,
      codes: [code("redeemed", { redeemed_at: 4_000 }), code("redeemed", { redeemed_at: 6_000 })],
    });
    expect(all.find((s) => s.step === "redeemed")).toMatchObject({ state: "done", at: 6_000, count: 2, of: 2 });
    expect(all.find((s) => s.step === "issued")?.at).toBe(2_000);
  });

  it("marks codes left unredeemed past their expiry, and refunds after issue", () => {
    const expired = done({
      status: "fulfilled",
      paid: true,
      codes: [code("issued", { expires_at: 9_000 }), code("redeemed")],
    });
    expect(expired).toContain("expired");
    expect(done({ status: "refunded", paid: true, refunded_after_issue: true })).toEqual([
      "paid",
      "issued",
      "refunded",
    ]);
    expect(done({ status: "refunded", paid: true })).toEqual(["paid", "refunded"]);
    expect(done({ status: "failed", paid: true })).toEqual(["paid", "failed"]);
  });
});
