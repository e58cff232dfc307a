/**
 * Price resolution down the channel tree. Pure.
 * The root sells at list price. Each channel below has an entry per product: enabled or
 * not, and either a fixed price or a discount in basis points off its parent's effective
 * price (or, with neither, the parent's price). A channel may sell a product only when it
 * and every ancestor below the root have it enabled.
 */
export interface PriceEntry {
  enabled: boolean;
  price: number | null;
  discount_bps: number | null;
  /** Whether this channel's children may price below this channel's own price. */
  allow_below: boolean;
}

export type PriceResult = { ok: true; price: number } | { ok: false; reason: "not_in_pool" };

/** Applies a discount with banker-free rounding to the nearest minor unit (half up). */
export function discounted(price: number, bps: number): number {
  // BigInt: price × (10000 − bps) passes 2^53 for prices above ~9·10^11 minor units.
  return Number((BigInt(price) * BigInt(10_000 - bps) + 5_000n) / 10_000n);
}

/** `chain` holds the entries from the root's first child down to the channel (empty for the root). */
export function effectivePrice(listPrice: number, chain: (PriceEntry | undefined)[]): PriceResult {
  let price = listPrice;
  for (const entry of chain) {
    if (!entry?.enabled) return { ok: false, reason: "not_in_pool" };
    if (entry.price !== null) price = entry.price;
    else if (entry.discount_bps !== null) price = discounted(price, entry.discount_bps);
  }
  return { ok: true, price };
}

/**
 * Whether a child's own price may be set: below the parent's effective price only when
 * the parent allows it (the root always allows its direct children any price).
 */
export function priceAllowed(childPrice: number, parentPrice: number, parentAllowsBelow: boolean): boolean {
  return childPrice >= parentPrice || parentAllowsBelow;
}
