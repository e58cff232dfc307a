/**
 * Stripe webhooks: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(STRIPE_WEBHOOK_SECRET, t + "." + raw body)>`,
 * 300 s tolerance. Events: `payment_intent.succeeded` (amount_received, currency, metadata.order_id),
 * `checkout.session.completed` (payment_status "paid", amount_total, metadata.order_id or client_reference_id),
 * `charge.refunded` (refund notice). Stripe currencies are lower-case; ours are ISO upper-case.
 */
import { newId } from "../domain/ids";
import { type GatewayAdapter, secret, type VerifiedNotice, verifyTimestamped } from "./types";

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" && v.length <= 200 ? v : null);
const int = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : null);
const cur = (v: unknown) => (typeof v === "string" && /^[a-z]{3}$/i.test(v) ? v.toUpperCase() : null);
const metaOrder = (o: Obj) => str((o.metadata as Obj | undefined)?.order_id);

export const stripeGateway: GatewayAdapter = {
  name: "stripe",
  secrets: ["STRIPE_WEBHOOK_SECRET"],
  async createPayment(order) {
    // Without network access we cannot create the PaymentIntent: the merchant's server creates it with these
    // parameters (metadata.order_id is how the webhook finds the order).
    return {
      payment_intent_params: {
        amount: order.amount,
        currency: order.currency.toLowerCase(),
        metadata: { order_id: order.order_id, payment_id: order.payment_id },
        description: order.description,
      },
    };
  },
  async verifyNotification(raw, env, now) {
    const failed = await verifyTimestamped(
      raw.headers.get("stripe-signature"),
      raw.body,
      secret(env, "STRIPE_WEBHOOK_SECRET")!,
      now,
    );
    if (failed) return failed;
    let event: Obj;
    try {
      event = JSON.parse(raw.body);
    } catch {
      return { ok: false, reason: "malformed", message: "not a Stripe event" };
    }
    const id = str(event?.id);
    const object = ((event?.data as Obj | undefined)?.object ?? null) as Obj | null;
    if (!id || !object || typeof object !== "object")
      return { ok: false, reason: "malformed", message: "not a Stripe event" };
    const base: VerifiedNotice = {
      gateway: "stripe",
      notice_id: id,
      kind: "other",
      order_id: metaOrder(object),
      payment_id: str(object.id),
      amount: null,
      currency: cur(object.currency),
    };
    switch (event.type) {
      case "payment_intent.succeeded":
        return { ok: true, notice: { ...base, kind: "paid", amount: int(object.amount_received) } };
      case "checkout.session.completed":
        if (object.payment_status !== "paid") return { ok: true, notice: base };
        return {
          ok: true,
          notice: {
            ...base,
            kind: "paid",
            order_id: base.order_id ?? str(object.client_reference_id),
            payment_id: str(object.payment_intent) ?? base.payment_id,
            amount: int(object.amount_total),
          },
        };
      case "charge.refunded":
        return {
          ok: true,
          notice: {
            ...base,
            kind: "refunded",
            payment_id: str(object.payment_intent) ?? base.payment_id,
            amount: int(object.amount_refunded),
          },
        };
      default:
        return { ok: true, notice: base };
    }
  },
  ack: () => ({ status: 200, body: JSON.stringify({ received: true }), contentType: "application/json" }),
  refund: () => ({ gateway_refund_id: newId("rfd") }),
};
