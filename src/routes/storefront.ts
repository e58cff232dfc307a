/**
 * The hosted buy page's catalog: `GET /v1/catalog` with a publishable key lists what its channel
 * sells (active, on sale, in the channel's pool) at the channel's price, and the gateways a browser can
 * pay through on the hosted page (those whose payment opens from a URL: the sandbox outside production, and
 * Alipay's phone cashier when ALIPAY_APP_PRIVATE_KEY lets the Worker sign it; WeChat Pay and Stripe need the
 * merchant's server to create the payment, see docs/consumers.md).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { enabledProductIds, suspendedOnPath } from "../db/channels";
import { getProducts, listProducts, type Product } from "../db/products";
import { saleState } from "../domain/validity";
import { missingSecret } from "../gateways/registry";
import { secret } from "../gateways/types";
import { h5Configured } from "../gateways/wechat-h5";
import type { AppEnv } from "../lib/context";
import { resolvePrices } from "../lib/prices";
import { publicSecurity } from "../lib/public-routes";
import { requirePublishableKey } from "../lib/publishable-keys";
import { channelSuspended } from "../lib/sale-errors";
import { validationHook } from "../lib/validation";
import { publicRateLimit } from "../security/rate-limit";
import { commonErrors, json } from "./schemas";

export const storefrontApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
// Authentication first, then the per-IP public limit (as on the checkout routes).
storefrontApp.use("/catalog", requirePublishableKey, publicRateLimit);

const BROWSER_GATEWAYS = ["sandbox", "alipay", "wechat"] as const;
type BrowserGateway = (typeof BROWSER_GATEWAYS)[number];

/** The gateways a browser can pay through from the hosted page: Alipay once the Worker can sign its pay URL. */
function browserGateways(env: Env): BrowserGateway[] {
  const list: BrowserGateway[] = [];
  if (!missingSecret(env, "sandbox") && (env.ENVIRONMENT as string) !== "production") list.push("sandbox");
  if (!missingSecret(env, "alipay") && secret(env, "ALIPAY_APP_PRIVATE_KEY")) list.push("alipay");
  if (!missingSecret(env, "wechat") && h5Configured(env)) list.push("wechat");
  return list;
}

/** At most this many products on one buy page (the page is a storefront, not the catalog API). */
const CATALOG_MAX = 100;

const CatalogProduct = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  kind: z.enum(["code", "card", "link"]),
  price: z.number(),
  currency: z.string(),
  per_order_max: z.number().nullable(),
});

const Catalog = z
  .object({
    object: z.literal("catalog"),
    products: z.array(CatalogProduct),
    gateways: z.array(z.enum(BROWSER_GATEWAYS)),
  })
  .openapi("Catalog");

storefrontApp.openapi(
  createRoute({
    method: "get",
    path: "/catalog",
    tags: ["Checkout"],
    security: publicSecurity("GET /v1/catalog"),
    summary: "What the publishable key's channel sells, at its price (the hosted buy page)",
    responses: { 200: json(Catalog, "The channel's products"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    const db = c.env.DB;
    if (!auth.root && (await suspendedOnPath(db, auth.path))) throw channelSuspended();
    const products: Map<string, Product> = auth.root
      ? new Map((await listProducts(db, { status: "active", limit: CATALOG_MAX })).map((p) => [p.id, p]))
      : await getProducts(db, (await enabledProductIds(db, auth.channelId)).slice(0, CATALOG_MAX));
    const prices = await resolvePrices(db, auth, products);
    const now = Date.now();
    const listed = [...products.values()]
      .filter((p) => p.status === "active" && p.kind !== "topup" && saleState(p.validity, now) === "ok")
      .filter((p) => prices.has(p.id))
      .map((p) => ({
        id: p.id,
        name: p.name,
        description: p.description,
        kind: p.kind as "code" | "card" | "link",
        price: prices.get(p.id)!,
        currency: p.currency,
        per_order_max: p.limits.per_order_max,
      }));
    c.header("Cache-Control", "no-store");
    return c.json({ object: "catalog" as const, products: listed, gateways: browserGateways(c.env) }, 200);
  },
);
