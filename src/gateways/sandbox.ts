/**
 * The local sandbox gateway: signs its notices like a real gateway (header
 * `Sandbox-Signature: t=<unix>,v1=<hex HMAC-SHA256(SANDBOX_GATEWAY_SECRET, t + "." + body)>`),
 * so the notice path is the same code in development as in production.
 * Body: {"id": "ntc_…", "type": "payment.succeeded" | "payment.refunded", "data": {order_id, payment_id, amount, currency}}.
 */
import { z } from "zod";
import { newId } from "../domain/ids";
import { type GatewayAdapter, hmacSha256Hex, secret, verifyTimestamped } from "./types";

const Notice = z.object({
  id: z.string().min(1).max(100),
  type: z.string().max(100),
  data: z.object({
    order_id: z.string().max(100),
    payment_id: z.string().max(100),
    amount: z.number().int().min(0),
    currency: z.string().regex(/^[A-Z]{3}$/),
  }),
});

export const SANDBOX_HEADER = "Sandbox-Signature";

/** Builds a signed sandbox notice (used by the development pay endpoint and the tests). */
export async function signSandboxNotice(key: string, body: string, now = Date.now()): Promise<string> {
  const t = Math.floor(now / 1000);
  return `t=${t},v1=${await hmacSha256Hex(key, `${t}.${body}`)}`;
}

export const sandboxGateway: GatewayAdapter = {
  name: "sandbox",
  secrets: ["SANDBOX_GATEWAY_SECRET"],
  async createPayment(order) {
    return {
      pay_url: `/v1/public/sandbox/pay/${order.order_id}`,
      note: "development only: POST pay_url to pay this order",
    };
  },
  async verifyNotification(raw, env, now) {
    const failed = await verifyTimestamped(
      raw.headers.get(SANDBOX_HEADER),
      raw.body,
      secret(env, "SANDBOX_GATEWAY_SECRET")!,
      now,
    );
    if (failed) return failed;
    let parsed: z.infer<typeof Notice>;
    try {
      parsed = Notice.parse(JSON.parse(raw.body));
    } catch {
      return { ok: false, reason: "malformed", message: "not a sandbox notice" };
    }
    const kind =
      parsed.type === "payment.succeeded" ? "paid" : parsed.type === "payment.refunded" ? "refunded" : "other";
    const d = parsed.data;
    return {
      ok: true,
      notice: {
        gateway: "sandbox",
        notice_id: parsed.id,
        kind,
        order_id: d.order_id,
        payment_id: d.payment_id,
        amount: d.amount,
        currency: d.currency,
      },
    };
  },
  ack: () => ({ status: 200, body: JSON.stringify({ received: true }), contentType: "application/json" }),
  refund: () => ({ gateway_refund_id: newId("rfd") }),
};
