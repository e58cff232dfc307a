/** Order shapes and pure helpers shared by the route and the ChannelAccount. */
import type { TopupLine } from "./topup";
import type { Validity } from "./validity";

export interface OrderLineSpec {
  product_id: string;
  quantity: number;
  unit_price: number;
  currency: string;
  validity: Validity;
  shards: number;
  per_customer_max: number | null;
  per_customer_window_days: number | null;
  /** Direct top-up lines only: who is recharged and with which provider product (domain/topup.ts). */
  topup?: TopupLine;
}

export interface PlaceOrderInput {
  channelId: string;
  /** Channels below the root pay from their prepaid balance (or credit); the root does not. */
  paysFromBalance: boolean;
  idempotencyKey: string;
  requestHash: string;
  customerRef: string | null;
  externalRef: string | null;
  lines: OrderLineSpec[];
}

/**
 * pending: a balance order in flight (saga); pending_payment: a checkout order holding codes until the
 * gateway confirms; processing: a top-up sent to the provider; then fulfilled, failed, cancelled
 * (hold expired unpaid) or refunded (money returned).
 */
export type OrderStatus =
  | "pending"
  | "pending_payment"
  | "processing"
  | "fulfilled"
  | "failed"
  | "cancelled"
  | "refunded";
export const ORDER_STATUSES = [
  "pending",
  "pending_payment",
  "processing",
  "fulfilled",
  "failed",
  "cancelled",
  "refunded",
] as const;

export interface OrderRecord {
  id: string;
  channel_id: string;
  status: OrderStatus;
  customer_ref: string | null;
  external_ref: string | null;
  currency: string;
  total_amount: number;
  lines: (OrderLineSpec & { shard: number | null })[];
  failure_reason: string | null;
  /** Money of the order: none (root), reserved while in flight, committed or released at the end. */
  funds: "none" | "reserved" | "committed" | "released";
  created_at: number;
  updated_at: number;
}

export type OrderRefusal =
  | { reason: "idempotency_mismatch" }
  | { reason: "per_customer_limit"; product_id: string; limit: number }
  | { reason: "out_of_stock" | "quota_exceeded"; product_id: string; available: number }
  | { reason: "insufficient_balance"; available: number }
  | { reason: "currency_mismatch"; currency: string };

/** Order of shards a line tries: start at a shard picked by the order id, then fall over to the next. */
export function shardOrder(orderId: string, shards: number): number[] {
  let h = 0;
  for (let i = 0; i < orderId.length; i++) h = (h * 31 + orderId.charCodeAt(i)) >>> 0;
  const start = h % shards;
  return Array.from({ length: shards }, (_, k) => (start + k) % shards);
}

export function orderTotal(lines: Pick<OrderLineSpec, "quantity" | "unit_price">[]): number {
  return lines.reduce((sum, l) => sum + l.quantity * l.unit_price, 0);
}

/** The order as events and projections see it: no validity internals, never codes. */
export function publicOrder(order: OrderRecord) {
  return {
    id: order.id,
    channel_id: order.channel_id,
    status: order.status,
    customer_ref: order.customer_ref,
    external_ref: order.external_ref,
    currency: order.currency,
    total_amount: order.total_amount,
    failure_reason: order.failure_reason,
    created_at: new Date(order.created_at).toISOString(),
    updated_at: new Date(order.updated_at).toISOString(),
    items: order.lines.map((l) => ({
      product_id: l.product_id,
      quantity: l.quantity,
      unit_price: l.unit_price,
      amount: l.quantity * l.unit_price,
    })),
  };
}
