/**
 * What each console role may do: the server's own role → scope table (src/security/scopes.ts, a leaf module
 * of pure data, bundled here), plus managing users, which only owners and admins do. The UI shows only what
 * the role may do; the server still decides (a hidden button is convenience, the API's 403 is the rule).
 */
import { roleScopes, type Scope } from "../security/scopes";

export type Permission = Scope | "users:admin";

export const can = (role: string, p: Permission) =>
  p === "users:admin" ? role === "owner" || role === "admin" : roleScopes(role).includes(p);
