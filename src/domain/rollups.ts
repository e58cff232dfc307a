/**
 * What each event adds to the cockpit's hourly roll-ups (pure: event in, deltas out). The rules match the
 * ledger so the cockpit ties out to it: revenue is money taken (order.paid by balance or gateway, at the
 * event's time), refunds are counted when they happen, orders and units when an order is fulfilled, and a
 * redemption (or its reversal, as −1) counts at the channel the code was sold to.
 */
import { ROOT_CHANNEL_ID } from "./ids";
import type { Posting } from "./ledger";

/** One roll-up row's increments (src/db/schema-analytics.ts); `hour` may be any time within the hour. */
export interface RollupDelta {
  hour: number;
  channelId: string;
  productId: string;
  currency: string;
  orders?: number;
  units?: number;
  revenue?: number;
  redemptions?: number;
  refunds?: number;
  refundAmount?: number;
  commission?: number;
  merchantShare?: number;
}
interface RollupEvent {
  type: string;
  source: string;
  created_at: string;
  data: unknown;
}
interface Item {
  product_id: string;
  quantity: number;
  amount?: number;
}
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON from our own outboxes, read field by field
type Data = Record<string, any>;

const items = (o: Data): Item[] =>
  Array.isArray(o?.items) ? o.items.filter((i: Item) => typeof i?.product_id === "string") : [];
const num = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) ? v : 0);

export function rollupDeltas(event: RollupEvent): RollupDelta[] {
  const d = (event.data ?? {}) as Data;
  const hour = Date.parse(event.created_at) || 0;
  const o = d.order as Data | undefined;
  switch (event.type) {
    case "order.fulfilled": {
      if (!o?.channel_id) return [];
      const lines = items(o);
      const units = lines.reduce((s, i) => s + num(i.quantity), 0);
      return [
        { hour, channelId: o.channel_id, productId: "", currency: "", orders: 1, units },
        ...lines.map((i) => ({
          hour,
          channelId: o.channel_id,
          productId: i.product_id,
          currency: "",
          orders: 1,
          units: num(i.quantity),
        })),
      ];
    }
    case "order.paid": {
      const p = d.payment as Data | undefined;
      if (!o?.channel_id || !p || (p.method !== "balance" && p.method !== "gateway")) return [];
      const currency = String(p.currency ?? o.currency ?? "");
      return [
        { hour, channelId: o.channel_id, productId: "", currency, revenue: num(p.amount) },
        ...items(o).map((i) => ({
          hour,
          channelId: o.channel_id,
          productId: i.product_id,
          currency,
          revenue: num(i.amount),
        })),
      ];
    }
    case "order.refunded": {
      const r = d.refund as Data | undefined;
      if (!o?.channel_id || !r) return [];
      return [
        {
          hour,
          channelId: o.channel_id,
          productId: "",
          currency: String(r.currency ?? o.currency ?? ""),
          refunds: 1,
          refundAmount: num(r.amount),
        },
      ];
    }
    case "code.redeemed":
    case "code.redemption_reversed": {
      const channelId = d.sold_channel_id ?? d.channel_id;
      const productId = event.source.split(":")[1];
      if (typeof channelId !== "string" || !productId) return [];
      const redemptions = event.type === "code.redeemed" ? 1 : -1;
      return [
        { hour, channelId, productId, currency: "", redemptions },
        { hour, channelId, productId: "", currency: "", redemptions },
      ];
    }
    default:
      return [];
  }
}

/**
 * What a ledger posting adds to the roll-ups: each commission leg of a sale (or its reversal by a refund) at the
 * channel that earns it, and the merchant's leg at the root channel. Credits are negative in the ledger, so
 * earnings are the legs' negatives; recognitions and payouts move money already counted and add nothing.
 */
export function postingRollupDeltas(p: Posting): RollupDelta[] {
  if (p.type !== "sale" && p.type !== "refund") return [];
  const base = { hour: p.created_at, productId: "", currency: p.currency };
  return p.legs.flatMap((l): RollupDelta[] => {
    if (l.kind === "commission") return [{ ...base, channelId: l.owner, commission: -l.amount }];
    if (l.kind === "deferred_revenue" || l.kind === "revenue")
      return [{ ...base, channelId: ROOT_CHANNEL_ID, merchantShare: -l.amount }];
    return [];
  });
}
