/**
 * API scopes and console roles, and which scopes each role holds. Pure data and a pure mapping:
 * a leaf module, shared by API-key auth (auth.ts) and console sessions (sessions.ts).
 */
export const SCOPES = [
  "products:read",
  "products:write",
  "codes:write",
  "orders:read",
  "orders:write",
  "redemptions:write",
  "keys:write",
  "channels:read",
  "channels:write",
  "audit:read",
  "ledger:read",
  "ledger:write",
  "webhooks:read",
  "webhooks:write",
  "refunds:write",
] as const;
export type Scope = (typeof SCOPES)[number];
/**
 * What a key of a channel below the root may hold. The catalog and the codes are the merchant's alone,
 * and so is money policy: commission rules and payouts (ledger:write), else an agent could grant its
 * subtree the merchant's remainder as commission, and refunds (refunds:write), else a reseller could
 * refund a delivered order to its own balance.
 */
const MERCHANT_ONLY: readonly Scope[] = ["products:write", "codes:write", "ledger:write", "refunds:write"];
export const CHANNEL_SCOPES: readonly Scope[] = SCOPES.filter((s) => !MERCHANT_ONLY.includes(s));

export const ROLES = ["owner", "admin", "operator", "finance", "auditor", "channel_manager"] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do, in API scopes. A channel_manager acts with its channel's subtree; the others act as the root. */
export function roleScopes(role: string): readonly Scope[] {
  switch (role) {
    case "owner":
    case "admin":
      return SCOPES;
    case "operator":
      return [
        "products:read",
        "products:write",
        "codes:write",
        "orders:read",
        "orders:write",
        "redemptions:write",
        "channels:read",
        "channels:write",
        "keys:write",
        "webhooks:read",
        "webhooks:write",
      ];
    case "finance":
      return [
        "products:read",
        "orders:read",
        "channels:read",
        "audit:read",
        "ledger:read",
        "ledger:write",
        "refunds:write",
        "webhooks:read",
      ];
    case "auditor":
      return ["products:read", "orders:read", "channels:read", "audit:read", "ledger:read", "webhooks:read"];
    case "channel_manager":
      return CHANNEL_SCOPES;
    default:
      return [];
  }
}
