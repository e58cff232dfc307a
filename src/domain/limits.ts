/** Purchase limits per order and per customer. Pure. */

export interface PurchaseLimits {
  per_order_max: number | null;
  per_customer_max: number | null;
  /** Window for the per-customer count in days; null counts for ever. */
  per_customer_window_days: number | null;
}

export type LimitVerdict =
  | { ok: true }
  | { ok: false; reason: "per_order_limit" | "per_customer_limit"; limit: number };

export function checkOrderLimit(limits: PurchaseLimits, quantity: number): LimitVerdict {
  if (limits.per_order_max !== null && quantity > limits.per_order_max) {
    return { ok: false, reason: "per_order_limit", limit: limits.per_order_max };
  }
  return { ok: true };
}

/** `alreadyBought` is what the customer bought of this product inside the window. */
export type CustomerLimits = Pick<PurchaseLimits, "per_customer_max" | "per_customer_window_days">;

export function checkCustomerLimit(limits: CustomerLimits, alreadyBought: number, quantity: number): LimitVerdict {
  if (limits.per_customer_max !== null && alreadyBought + quantity > limits.per_customer_max) {
    return { ok: false, reason: "per_customer_limit", limit: limits.per_customer_max };
  }
  return { ok: true };
}

/** Start of the counting window in ms, or 0 for "ever". */
export function windowStart(limits: CustomerLimits, now: number): number {
  return limits.per_customer_window_days === null ? 0 : now - limits.per_customer_window_days * 86_400_000;
}
