/**
 * The `checkouts` rows of a ChannelAccount (schema in channel-account.schema.ts) and the small steps
 * the checkout, payment and refund modules share: load and change a row, change an order's status,
 * record an order event, release the holds of an order.
 */
import type { OrderRecord } from "../domain/orders";
import { publicOrder } from "../domain/orders";
import type { GatewayName } from "../gateways/types";
import { type Host, wakeAt } from "./channel-host";
import { saveOrder } from "./channel-orders";
import { recordEvent } from "./outbox";
import { skuPool } from "./sku-pool";

/**
 * holding → awaiting (codes held, waiting for the gateway) → fulfilling (paid) → fulfilled;
 * holding → failed (no stock); awaiting → cancelled (expired unpaid); fulfilling → refunded
 * (paid but not deliverable, or refunded at the gateway first).
 */
export type CheckoutState = "holding" | "awaiting" | "fulfilling" | "fulfilled" | "failed" | "cancelled" | "refunded";

export type CheckoutRow = {
  order_id: string;
  state: CheckoutState;
  gateway: GatewayName;
  payment_id: string;
  ttl_ms: number;
  expires_at: number;
  holds: string;
  paid: string | null;
  late: number;
  gateway_refunded: number;
  updated_at: number;
};
export const holdId = (orderId: string, line: number) => `hld_${orderId.slice(4)}_${line}`;
export const loadCheckout = (sql: SqlStorage, id: string) =>
  sql.exec<CheckoutRow>("SELECT * FROM checkouts WHERE order_id = ?", id).toArray()[0] ?? null;
export const setCheckout = (sql: SqlStorage, id: string, fields: Partial<CheckoutRow>) => {
  const keys = Object.keys(fields);
  sql.exec(
    `UPDATE checkouts SET ${keys.map((k) => `${k} = ?`).join(", ")}, updated_at = ? WHERE order_id = ?`,
    ...keys.map((k) => (fields as Record<string, SqlStorageValue>)[k]),
    Date.now(),
    id,
  );
};
/** Records an order event and wakes the alarm that flushes it. */
export const orderEvent = (h: Host, o: OrderRecord, type: string, extra: Record<string, unknown> = {}) => {
  recordEvent(h.sql, `channel:${o.channel_id}`, type, { order: publicOrder(o), ...extra });
  wakeAt(h, Date.now());
};
export const setStatus = (
  h: Host,
  o: OrderRecord,
  status: OrderRecord["status"],
  failure: string | null = null,
): OrderRecord => {
  const next = { ...o, status, failure_reason: failure, updated_at: Date.now() };
  saveOrder(h.sql, next);
  return next;
};

export async function releaseHolds(h: Host, order: OrderRecord, holds: (number | null)[]): Promise<void> {
  await Promise.all(
    order.lines.map((spec, line) => {
      const shard = holds[line];
      if (shard === null || shard === undefined) return Promise.resolve();
      const ref = { productId: spec.product_id, shard };
      return skuPool(h.env, ref).releaseHold(ref, holdId(order.id, line));
    }),
  );
}
