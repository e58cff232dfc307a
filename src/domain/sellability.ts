/**
 * May this line be sold? The one chain of checks (status, kind, sale window, per-order limit,
 * currency, price) shared by balance orders (routes/orders.ts) and consumer checkout
 * (routes/checkout.ts). Pure: the caller has read the products and the channel's prices.
 */
import { checkOrderLimit, type PurchaseLimits } from "./limits";
import type { OrderLineSpec } from "./orders";
import { saleState, type Validity } from "./validity";

/** The product fields a sale depends on (db/products.ts `Product` satisfies it). */
export interface SellableProduct {
  id: string;
  kind: string;
  status: string;
  currency: string;
  validity: Validity;
  limits: PurchaseLimits;
  shards: number;
}

export type SaleRefusal =
  | { reason: "product_not_found"; product_id: string }
  | { reason: "product_inactive"; product_id: string; status: string }
  | { reason: "topup_not_supported"; product_id: string }
  | { reason: "product_expired"; product_id: string }
  | { reason: "product_not_started"; product_id: string }
  | { reason: "per_order_limit"; product_id: string; limit: number }
  | { reason: "mixed_currency"; product_id: string };

export type SaleVerdict = { ok: true; line: OrderLineSpec } | { ok: false; refusal: SaleRefusal };

export interface SaleRequest {
  product_id: string;
  quantity: number;
}

/**
 * The order line for `item`, or why it cannot be sold. `product` and `price` are undefined when the
 * product is unknown or outside the channel's pool (both read as not found, so a pool never leaks).
 * `currency` is the currency of the lines accepted so far, if any.
 */
export function sellLine(
  item: SaleRequest,
  product: SellableProduct | undefined,
  price: number | undefined,
  context: { now: number; currency: string | null; topupAllowed: boolean },
): SaleVerdict {
  const refuse = (refusal: SaleRefusal): SaleVerdict => ({ ok: false, refusal });
  if (!product || price === undefined) return refuse({ reason: "product_not_found", product_id: item.product_id });
  const id = product.id;
  if (product.status !== "active")
    return refuse({ reason: "product_inactive", product_id: id, status: product.status });
  if (!context.topupAllowed && product.kind === "topup")
    return refuse({ reason: "topup_not_supported", product_id: id });
  const sale = saleState(product.validity, context.now);
  if (sale === "ended") return refuse({ reason: "product_expired", product_id: id });
  if (sale === "not_started") return refuse({ reason: "product_not_started", product_id: id });
  const limit = checkOrderLimit(product.limits, item.quantity);
  if (!limit.ok) return refuse({ reason: "per_order_limit", product_id: id, limit: limit.limit });
  if (context.currency !== null && context.currency !== product.currency)
    return refuse({ reason: "mixed_currency", product_id: id });
  return {
    ok: true,
    line: {
      product_id: id,
      quantity: item.quantity,
      unit_price: price,
      currency: product.currency,
      validity: product.validity,
      shards: product.shards,
      per_customer_max: product.limits.per_customer_max,
      per_customer_window_days: product.limits.per_customer_window_days,
    },
  };
}
