/**
 * The operations that take no API key, declared once. app.ts skips API-key auth, the per-key rate
 * limit, request signing and the audit log for their paths (`isPublicPath`), and each of them
 * declares its OpenAPI `security` from here (`publicSecurity`), so the spec and the middleware
 * cannot drift apart: test/public-routes.test.ts checks this list against the OpenAPI document
 * and against every route the app serves. A leaf module: it imports nothing from the project.
 */

/** What authenticates a public operation instead of an API key. */
export type PublicAuth =
  /** Anyone; the routes rate-limit per IP (the spec, the consumer widget's verify and redeem). */
  | "none"
  /** The console log-in: an email and its password (rate-limited per IP and per account). */
  | "password"
  /** A publishable key `pk_…` with its origin allow-list (lib/publishable-keys.ts). */
  | "publishable_key"
  /** The hosted order page's order token, or the order number with the look-up password chosen at checkout. */
  | "order_token"
  /** A payment gateway's signature over the raw notice (gateways/*.ts). */
  | "gateway_signature"
  /** The top-up provider's signature over its callback (providers/topup-provider.ts). */
  | "provider_signature"
  /** Nothing, and refused unless ENVIRONMENT is development (the sandbox payer). */
  | "development_only";

export interface PublicOperation {
  by: PublicAuth;
  /** False for the routes outside the OpenAPI document: the spec itself and the raw gateway notices. */
  documented?: false;
}

const OPERATIONS = {
  "GET /v1/openapi.json": { by: "none", documented: false },
  "POST /v1/sessions": { by: "password" },
  "POST /v1/public/codes/verify": { by: "none" },
  "POST /v1/public/redemptions": { by: "none" },
  "GET /v1/catalog": { by: "publishable_key" },
  "POST /v1/public/campaigns/{id}/claims": { by: "publishable_key" },
  "POST /v1/public/orders/lookup": { by: "order_token" },
  "POST /v1/public/orders/reveal": { by: "order_token" },
  "POST /v1/public/payments/{gateway}/notify": { by: "gateway_signature", documented: false },
  "POST /v1/public/sandbox/pay/{order_id}": { by: "development_only" },
  "POST /v1/public/topup/notify": { by: "provider_signature" },
  "POST /v1/checkout": { by: "publishable_key" },
  "GET /v1/checkout/{order_id}": { by: "publishable_key" },
} as const satisfies Record<string, PublicOperation>;

export type PublicOperationKey = keyof typeof OPERATIONS;

/** `METHOD /v1/path` with OpenAPI `{param}`s → what authenticates it instead of an API key. */
export const PUBLIC_OPERATIONS: Readonly<Record<PublicOperationKey, PublicOperation>> = OPERATIONS;

/** The OpenAPI security scheme of API keys (the document's default) and of publishable keys. */
export const API_KEY_SCHEME = "apiKey";
export const PUBLISHABLE_KEY_SCHEME = "publishableKey";

/**
 * Path prefixes public as a whole, whatever the method and even for unknown paths (those answer
 * 404, not 401). Every operation below them must be in PUBLIC_OPERATIONS (checked by the test).
 */
const PUBLIC_PREFIXES = ["/v1/public/", "/v1/checkout/"] as const;

/** The public operations' paths without parameters, matched exactly. */
const PUBLIC_EXACT: ReadonlySet<string> = new Set(
  Object.keys(PUBLIC_OPERATIONS)
    .map((key) => key.slice(key.indexOf(" ") + 1))
    .filter((path) => !path.includes("{")),
);

/** Whether a request path needs no API key (the middleware's decision in app.ts). */
export function isPublicPath(path: string): boolean {
  return PUBLIC_EXACT.has(path) || PUBLIC_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** The OpenAPI `security` of a public operation: none, or the publishable key. */
export function publicSecurity(operation: PublicOperationKey): Record<string, string[]>[] {
  return PUBLIC_OPERATIONS[operation].by === "publishable_key" ? [{ [PUBLISHABLE_KEY_SCHEME]: [] }] : [];
}
