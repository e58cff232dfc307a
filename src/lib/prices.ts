/** A caller's effective prices: list price for the root, the price list down the tree for a channel. */

import { priceChains } from "../db/channels";
import type { Product } from "../db/products";
import { effectivePrice } from "../domain/pricing";
import type { Auth } from "../security/auth";

/** product id → effective price, for the products the caller's channel may sell (others are absent). */
export async function resolvePrices(
  db: D1Database,
  auth: Pick<Auth, "root" | "path">,
  products: Map<string, Product>,
): Promise<Map<string, number>> {
  const chains = auth.root ? new Map() : await priceChains(db, auth.path, [...products.keys()]);
  const out = new Map<string, number>();
  for (const [id, product] of products) {
    const result = effectivePrice(product.price, auth.root ? [] : (chains.get(id) ?? []));
    if (result.ok) out.set(id, result.price);
  }
  return out;
}
