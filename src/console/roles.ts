/**
 * What each console role may do, mirrored from src/security/scopes.ts so the UI shows only what the role may
 * do. The server still decides: a hidden button is convenience, the API's 403 is the rule.
 */
export type Role = "owner" | "admin" | "operator" | "finance" | "auditor" | "channel_manager";

const ALL = [
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
  "users:admin",
] as const;
export type Permission = (typeof ALL)[number];

const BY_ROLE: Record<Role, readonly Permission[]> = {
  owner: ALL,
  admin: ALL,
  operator: [
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
  ],
  finance: [
    "products:read",
    "orders:read",
    "channels:read",
    "audit:read",
    "ledger:read",
    "ledger:write",
    "refunds:write",
    "webhooks:read",
  ],
  auditor: ["products:read", "orders:read", "channels:read", "audit:read", "ledger:read", "webhooks:read"],
  channel_manager: [
    "products:read",
    "orders:read",
    "orders:write",
    "redemptions:write",
    "keys:write",
    "channels:read",
    "channels:write",
    "audit:read",
    "ledger:read",
    "webhooks:read",
    "webhooks:write",
  ],
};

export const can = (role: string, p: Permission) => (BY_ROLE[role as Role] ?? []).includes(p);
