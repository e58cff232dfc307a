/** Fuzz routes of webhooks: subscriptions, secrets, pings and deliveries. */
import fc from "fast-check";
import { bodyText } from "./fuzz-bodies";
import { f, webhookReceiver } from "./fuzz-fixtures";
import { ids, type RouteSpec } from "./fuzz-inputs";
import { mutatedBody, type Path, weirdValue } from "./fuzz-values";

const webhookBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { url: `${webhookReceiver}/hooks/fuzz`, events: ["reconciliation.mismatch"] },
    { url: "https://10.0.0.1/x", events: ["order.*"], description: "d" },
    { url: "http://169.254.169.254/latest", events: ["*"], channel_id: f.child },
    { url: `${webhookReceiver}/hooks/fuzz`, events: ["stock.low"], channel_id: f.sibling },
  );
const webhookPaths: Path[] = [["url"], ["events"], ["events", 0], ["description"], ["channel_id"], ["status"]];
const webhookValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "https://[::ffff:a9fe:a9fe]/",
      "https://0xa9fea9fe/",
      "https://u:p@example.com/",
      "order.*",
      "*",
      "nope.*",
      "active",
      "disabled",
      "deleted",
      ["*"],
      [],
      "x".repeat(2100),
    ),
  },
);

export const webhookRoutes: RouteSpec[] = [
  {
    name: "POST /v1/webhooks",
    method: "POST",
    path: () => fc.constant("/v1/webhooks"),
    body: () => bodyText(mutatedBody(webhookBases(), webhookPaths, webhookValues)),
  },
  {
    name: "GET /v1/webhooks",
    method: "GET",
    path: () => fc.constant("/v1/webhooks"),
    query: ["limit", "cursor", "channel_id", "status"],
  },
  { name: "GET /v1/webhooks/{id}", method: "GET", path: () => ids.whk().map((id) => `/v1/webhooks/${id}`) },
  {
    name: "PATCH /v1/webhooks/{id}",
    method: "PATCH",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}`),
    body: () => bodyText(mutatedBody(webhookBases(), webhookPaths, webhookValues)),
  },
  {
    name: "POST /v1/webhooks/{id}/rotate-secret",
    method: "POST",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}/rotate-secret`),
    body: () => bodyText(weirdValue),
    runs: 30,
  },
  {
    name: "POST /v1/webhooks/{id}/ping",
    method: "POST",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}/ping`),
    body: () => bodyText(weirdValue),
    runs: 30,
  },
  {
    name: "GET /v1/webhooks/{id}/deliveries",
    method: "GET",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}/deliveries`),
    query: ["limit", "cursor", "status", "event_type"],
  },
  {
    name: "GET /v1/webhooks/{id}/deliveries/{delivery_id}",
    method: "GET",
    path: () => fc.tuple(ids.whk(), ids.dlv()).map(([w, d]) => `/v1/webhooks/${w}/deliveries/${d}`),
  },
  {
    name: "POST /v1/webhooks/{id}/deliveries/{delivery_id}/replay",
    method: "POST",
    path: () => fc.tuple(ids.whk(), ids.dlv()).map(([w, d]) => `/v1/webhooks/${w}/deliveries/${d}/replay`),
    body: () => bodyText(weirdValue),
    runs: 30,
  },
  {
    name: "DELETE /v1/webhooks/{id}",
    method: "DELETE",
    path: () => ids.whk().map((id) => `/v1/webhooks/${id}`),
    body: () => bodyText(weirdValue),
    runs: 20,
  },
];
