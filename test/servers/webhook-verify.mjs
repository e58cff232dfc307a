// Verifies a Voucher Edge webhook (Node 18+, no dependencies). Pass the raw request body, exactly as received.
import { createHmac, timingSafeEqual } from "node:crypto";

export function verifyVoucherSignature(
  secret,
  rawBody,
  header,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
) {
  let t = null;
  const signatures = [];
  for (const item of String(header ?? "").split(",")) {
    const [key, value = ""] = item.trim().split("=", 2);
    if (key === "t" && /^\d{1,12}$/.test(value)) t = Number(value);
    if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value, "hex"));
  }
  if (t === null || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false; // too old (or from the future): a replay
  const expected = createHmac("sha256", secret).update(`${t}.`).update(rawBody).digest();
  return signatures.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected));
}
