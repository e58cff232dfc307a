/** The Hono app: request id, headers, secrets check, body limits, auth, sub-apps, one error mapper. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { newId } from "./domain/ids";
import { auditLog } from "./lib/audit";
import type { AppEnv } from "./lib/context";
import { ApiError, errorBody } from "./lib/errors";
import { relaxRequestDefaults } from "./lib/openapi-defaults";
import { API_KEY_SCHEME, isPublicPath, PUBLISHABLE_KEY_SCHEME } from "./lib/public-routes";
import { checkoutPreflight } from "./lib/publishable-keys";
import { validationHook } from "./lib/validation";
import { skuPool } from "./objects/sku-pool";
import { adminApp } from "./routes/admin";
import { allocationsApp } from "./routes/allocations";
import { analyticsApp } from "./routes/analytics";
import { auditApp } from "./routes/audit";
import { balanceApp } from "./routes/balance";
import { batchesApp } from "./routes/batches";
import { campaignClaimsApp } from "./routes/campaign-claims";
import { campaignsApp } from "./routes/campaigns";
import { channelProductsApp } from "./routes/channel-products";
import { channelsApp } from "./routes/channels";
import { checkoutApp } from "./routes/checkout";
import { codesApp } from "./routes/codes";
import { docsApp } from "./routes/docs";
import { eventsApp } from "./routes/events";
import { exportsApp } from "./routes/exports";
import { hostedPagesApp } from "./routes/hosted-pages";
import { keysApp } from "./routes/keys";
import { liveApp } from "./routes/live";
import { orderPageApp } from "./routes/order-page";
import { ordersApp } from "./routes/orders";
import { partnerEventsApp } from "./routes/partner-events";
import { paymentNotifyApp } from "./routes/payment-notify";
import { payoutsApp } from "./routes/payouts";
import { productsApp } from "./routes/products";
import { publicApp } from "./routes/public";
import { publicClaimsApp } from "./routes/public-claims";
import { reconciliationApp } from "./routes/reconciliation";
import { redemptionListApp } from "./routes/redemption-list";
import { redemptionsApp } from "./routes/redemptions";
import { refundsApp } from "./routes/refunds";
import { sessionsApp } from "./routes/sessions";
import { settlementApp } from "./routes/settlement";
import { statementsApp } from "./routes/statements";
import { storefrontApp } from "./routes/storefront";
import { summaryApp } from "./routes/summary";
import { topupNotifyApp } from "./routes/topup-notify";
import { usersApp } from "./routes/users";
import { webhookDeliveriesApp } from "./routes/webhook-deliveries";
import { webhooksApp } from "./routes/webhooks";
import { requireAuth } from "./security/auth";
import { corsForConfiguredOrigins } from "./security/cors";
import { apiRateLimit } from "./security/rate-limit";
import { readSecrets } from "./security/secrets";
import { requireSignature } from "./security/signing";

const JSON_MAX_BYTES = 1024 * 1024;

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

app.use("*", async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && /^[\w.-]{8,64}$/.test(incoming) ? incoming : newId("req");
  c.set("requestId", requestId);
  c.header("X-Request-Id", requestId);
  await next();
});

const pageHeaders = secureHeaders({
  strictTransportSecurity: "max-age=63072000; includeSubDomains",
  xFrameOptions: "DENY",
  referrerPolicy: "no-referrer",
});
// The hosted pages under a publishable key set their own headers: they may be framed by the key's origins.
app.use("*", (c, next) => (c.req.path.startsWith("/pk/") ? next() : pageHeaders(c, next)));

// Checkout preflights answer for the origins of publishable keys (lib/publishable-keys.ts), before the global CORS.
app.use("/v1/checkout", checkoutPreflight);
app.use("/v1/checkout/*", checkoutPreflight);
app.use("/v1/catalog", checkoutPreflight);
app.use("/v1/public/campaigns/*", checkoutPreflight);
app.use("/v1/*", corsForConfiguredOrigins);

app.get("/healthz", (c) => c.json({ ok: true }));
/** The console is the product's front door (static assets under /console/). */
app.get("/", (c) => c.redirect("/console/", 302));

/** Every request after this needs the secrets: a misconfigured deployment says which one is wrong. */
app.use("*", async (c, next) => {
  const secrets = readSecrets(c.env);
  if (!secrets.ok) return c.json(errorBody("misconfigured", secrets.problem, undefined, c.get("requestId")), 503);
  await next();
});

app.use("/v1/*", async (c, next) => {
  // Batch uploads (CSV) have their own, larger limit on their route.
  if (c.req.method === "POST" && /^\/v1\/products\/[^/]+\/batches$/.test(c.req.path)) return next();
  return bodyLimit({
    maxSize: JSON_MAX_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `request bodies are at most ${JSON_MAX_BYTES} bytes`);
    },
  })(c, next);
});

/** Liveness through one Durable Object RPC: also the baseline route of `npm run bench`. */
app.get("/healthz/do", async (c) => {
  const ref = { productId: "prd_healthz", shard: 0 };
  const stock = await skuPool(c.env, ref).stock(ref);
  return c.json({ ok: true, probe: stock.total });
});

app.route("/", docsApp);
app.route("/", hostedPagesApp);
/**
 * The spec, the consumer endpoints, the log-in, checkout (publishable keys) and the signed callbacks are
 * public (lib/public-routes.ts says which and what authenticates each instead); everything else needs a key.
 */
app.use("/v1/*", async (c, next) => (isPublicPath(c.req.path) ? next() : requireAuth(c, next)));
app.use("/v1/*", async (c, next) => (isPublicPath(c.req.path) ? next() : apiRateLimit(c, next)));
/** Every authenticated mutation and code reveal leaves an audit row (written after the response, never its body). */
app.use("/v1/*", async (c, next) => (isPublicPath(c.req.path) ? next() : requireSignature(c, next)));
app.use("/v1/*", async (c, next) => (isPublicPath(c.req.path) ? next() : auditLog(c, next)));
for (const sub of [
  publicApp,
  storefrontApp,
  orderPageApp,
  publicClaimsApp,
  paymentNotifyApp,
  checkoutApp,
  refundsApp,
  topupNotifyApp,
  productsApp,
  batchesApp,
  allocationsApp,
  ordersApp,
  redemptionsApp,
  redemptionListApp,
  codesApp,
  channelsApp,
  channelProductsApp,
  balanceApp,
  summaryApp,
  analyticsApp,
  eventsApp,
  liveApp,
  keysApp,
  auditApp,
  adminApp,
  webhooksApp,
  webhookDeliveriesApp,
  settlementApp,
  statementsApp,
  payoutsApp,
  reconciliationApp,
  exportsApp,
  campaignsApp,
  campaignClaimsApp,
  partnerEventsApp,
]) {
  app.route("/v1", sub);
}

/** Console users and their sessions (log-in is public; see src/security/sessions.ts). */
for (const sub of [sessionsApp, usersApp]) app.route("/v1", sub);

app.openAPIRegistry.registerComponent("securitySchemes", API_KEY_SCHEME, {
  type: "http",
  scheme: "bearer",
  description: "An API key (vek_…) or the owner's ADMIN_TOKEN",
});
app.openAPIRegistry.registerComponent("securitySchemes", PUBLISHABLE_KEY_SCHEME, {
  type: "http",
  scheme: "bearer",
  description: "A channel's publishable key (pk_…), from an origin it allows: the checkout routes only",
});
const OPENAPI_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "Voucher Edge API",
    version: "1.0.0",
    description:
      'Card codes (卡密) generated, sold and redeemed safely. Errors are always {"error": {"code", "message"}}.',
  },
  servers: [{ url: "/" }],
  security: [{ [API_KEY_SCHEME]: [] }],
};
let openApiDocument: Record<string, unknown> | null = null;
/** The spec, built once per isolate; request bodies do not require the fields the API defaults (lib/openapi-defaults.ts). */
app.get("/v1/openapi.json", (c) => {
  openApiDocument ??= relaxRequestDefaults(
    app.getOpenAPI31Document(OPENAPI_CONFIG) as unknown as Record<string, unknown>,
  );
  return c.json(openApiDocument);
});

app.notFound((c) =>
  c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`, undefined, c.get("requestId")), 404),
);

app.onError((err, c) => {
  const requestId = c.get("requestId");
  if (err instanceof ApiError) {
    for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
    return c.json(errorBody(err.code, err.message, err.details, requestId), err.status);
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const code =
      (
        {
          400: "malformed_request",
          401: "unauthorized",
          413: "payload_too_large",
          415: "unsupported_media_type",
        } as Record<number, string>
      )[status] ?? "http_error";
    return c.json(errorBody(code, err.message || "bad request", undefined, requestId), status);
  }
  // A bug, not bad input: log the request id and the error type only, never bodies (they may hold codes).
  console.error(
    JSON.stringify({
      level: "error",
      request_id: requestId,
      error: err instanceof Error ? err.name : "unknown",
      message: err instanceof Error ? err.message.slice(0, 200) : "",
    }),
  );
  return c.json(
    errorBody(
      "internal_error",
      "something went wrong on our side; quote the request id to support",
      undefined,
      requestId,
    ),
    500,
  );
});
