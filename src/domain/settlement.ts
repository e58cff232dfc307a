/**
 * Split settlement (分账), pure. Each channel on the order channel's path (below the root) earns a
 * commission by its rule; the merchant (root) keeps the rest. Rounding never creates or loses a cent:
 * every share is floored, the merchant gets the remainder, and if the rules ask for more than the
 * total, all shares are scaled down by total / asked (floored), so the sum never exceeds the total.
 */

export interface SplitLine {
  product_id: string;
  quantity: number;
  /** Line amount in minor units (quantity × unit price). */
  amount: number;
}

export interface ProductOverride {
  product_id: string;
  bps?: number | null;
  fixed_per_unit?: number | null;
  /** Most this channel earns from one order line of this product. */
  cap?: number | null;
}

export interface SettlementRule {
  /** Basis points of each line amount (800 = 8 %). */
  bps?: number | null;
  /** Minor units per unit sold, added to the bps part. */
  fixed_per_unit?: number | null;
  /** Most this channel earns from one order (all lines together). */
  cap?: number | null;
  overrides?: ProductOverride[];
}

export interface PathRule {
  channel_id: string;
  rule: SettlementRule | null;
}

export interface Share {
  channel_id: string;
  amount: number;
}

export interface Split {
  total: number;
  shares: Share[];
  merchant_amount: number;
  /** True when the rules asked for more than the total and the shares were scaled down. */
  scaled: boolean;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** What one rule asks for one line, before the per-order cap and scaling. */
export function lineShare(rule: SettlementRule, line: SplitLine): bigint {
  const override = rule.overrides?.find((o) => o.product_id === line.product_id);
  const base = override ?? rule;
  let share = 0n;
  if (base.bps) share += (BigInt(Math.max(0, line.amount)) * BigInt(base.bps)) / 10_000n;
  if (base.fixed_per_unit) share += BigInt(base.fixed_per_unit) * BigInt(Math.max(0, line.quantity));
  if (override?.cap != null) share = min(share, BigInt(override.cap));
  return share;
}

/** What one rule asks for a whole order (lines summed, then the rule's cap). */
export function ruleShare(rule: SettlementRule | null, lines: SplitLine[]): bigint {
  if (!rule) return 0n;
  const asked = lines.reduce((s, l) => s + lineShare(rule, l), 0n);
  return rule.cap != null ? min(asked, BigInt(rule.cap)) : asked;
}

/**
 * Splits `total` (default: the sum of the line amounts) between the path's channels and the merchant.
 * `path` lists the channels below the root, top-down; shares come back in the same order.
 */
export function splitOrder(
  lines: SplitLine[],
  path: PathRule[],
  total = lines.reduce((s, l) => s + l.amount, 0),
): Split {
  const T = BigInt(Math.max(0, total));
  const asked = path.map((p) => ruleShare(p.rule, lines));
  const sum = asked.reduce((s, a) => s + a, 0n);
  const scaled = sum > T;
  const shares = path.map((p, i) => ({
    channel_id: p.channel_id,
    amount: Number(scaled ? (asked[i] * T) / sum : asked[i]),
  }));
  const paid = shares.reduce((s, x) => s + x.amount, 0);
  return { total: Number(T), shares, merchant_amount: Number(T) - paid, scaled };
}
