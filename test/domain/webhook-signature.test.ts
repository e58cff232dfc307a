/** Webhook signatures (pure) and the documented verifiers against our signer. */

import { describe, expect, it } from "vitest";
import docs from "../../docs/webhooks.md?raw";
import { parseSignature, signPayload, verifyPayload } from "../../src/domain/webhook-signature";
import pythonSource from "../servers/webhook_verify.py?raw";
import { verifyVoucherSignature } from "../servers/webhook-verify.mjs";
import verifierSource from "../servers/webhook-verify.mjs?raw";

const SECRET = "whsec_test-secret-0123456789abcdefghijklmnopqrstuv";

describe("webhook signatures", () => {
  it("signs t.body with HMAC-SHA256 and verifies within the tolerance only", async () => {
    const body = JSON.stringify({ id: "evt_1", type: "order.paid", data: { note: "ünïcode ✓" } });
    const header = await signPayload(SECRET, body, 1_800_000_000);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(await verifyPayload(SECRET, body, header, 1_800_000_100)).toEqual({ ok: true, t: 1_800_000_000 });
    expect(await verifyPayload(SECRET, body, header, 1_800_000_301)).toEqual({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
    expect(await verifyPayload(SECRET, `${body} `, header, 1_800_000_000)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyPayload(`${SECRET}x`, body, header, 1_800_000_000)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyPayload(SECRET, body, header.replace("t=1800000000", "t=1800000001"), 1_800_000_000)).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(await verifyPayload(SECRET, body, "v1=abc", 1_800_000_000)).toEqual({ ok: false, reason: "malformed" });
    expect(parseSignature(`t=5,v1=${"a".repeat(64)},v1=${"b".repeat(64)}`)).toEqual({
      t: 5,
      v1: ["a".repeat(64), "b".repeat(64)],
    });
  });

  it("the documented Node verifier (the receiver's own code) accepts our signatures and refuses tampering", async () => {
    const body = JSON.stringify({ id: "evt_2", type: "stock.low", data: { quota: 3, name: "卡密" } });
    const now = Math.floor(Date.now() / 1000);
    const header = await signPayload(SECRET, body, now);
    expect(verifyVoucherSignature(SECRET, body, header)).toBe(true);
    expect(verifyVoucherSignature(SECRET, Buffer.from(body, "utf8"), header)).toBe(true);
    expect(verifyVoucherSignature(SECRET, body.replace("3", "4"), header)).toBe(false);
    expect(verifyVoucherSignature(SECRET, body, header, 300, now + 301)).toBe(false);
    expect(verifyVoucherSignature(SECRET, body, undefined)).toBe(false);
    expect(verifyVoucherSignature(SECRET, body, "t=abc,v1=zz")).toBe(false);
  });

  it("docs/webhooks.md shows exactly the verifier the test receiver runs", () => {
    expect(docs).toContain(verifierSource.trim());
    expect(docs).toContain(pythonSource.trim());
  });
});
