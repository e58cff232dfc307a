/** Fuzz routes of the console: sessions (log-in) and users. */
import fc from "fast-check";
import { bodyText } from "./fuzz-bodies";
import { FUZZ_PASSWORD, f } from "./fuzz-fixtures";
import { ids, type RouteSpec } from "./fuzz-inputs";
import { idSegment } from "./fuzz-requests";
import { mutatedBody, weirdValue } from "./fuzz-values";

const roles = ["owner", "admin", "operator", "finance", "auditor", "channel_manager", "root", "Admin", ""];
const loginBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { email: "fuzz-finance@example.com", password: FUZZ_PASSWORD },
    { email: "FUZZ-ADMIN@example.com", password: "wrong" },
    { email: "nobody@example.com", password: FUZZ_PASSWORD },
  );
const userBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { email: "fuzz-new@example.com", password: FUZZ_PASSWORD, role: "operator" },
    { email: "fuzz-cm@example.com", password: FUZZ_PASSWORD, role: "channel_manager", channel_id: f.grandchild },
    { email: "fuzz-owner@example.com", password: FUZZ_PASSWORD, role: "owner" },
    { email: "fuzz-admin@example.com", password: FUZZ_PASSWORD, role: "auditor" },
  );
const userPatchBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { role: "auditor" },
    { status: "active" },
    { status: "disabled" },
    { password: "another fuzz password" },
    { role: "channel_manager", channel_id: f.child },
    { role: "finance", channel_id: null },
  );
const exportBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { kind: "orders", filter: {} },
    { kind: "orders", filter: { status: "fulfilled", channel_id: f.child, from: "2026-01-01T00:00:00Z" } },
    { kind: "redemptions", filter: { outcome: "failed", product_id: f.product } },
  );
const campaignBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    {
      name: "Trial",
      product_id: f.product,
      starts_at: "2026-01-01T00:00:00Z",
      ends_at: "2100-01-01T00:00:00Z",
      max_claims: 3,
      daily_max: 2,
      max_amount: 100_000,
    },
    {
      name: "Store trial",
      product_id: f.product,
      channel_id: f.child,
      starts_at: "2026-01-01T00:00:00Z",
      ends_at: "2027-01-01T00:00:00Z",
      max_claims: 1,
    },
  );
const exportIds = () => idSegment("exp", ["exp_fuzz0unknown"]);
const userValues = () =>
  fc.oneof(
    { weight: 4, arbitrary: weirdValue },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...roles, ...f.channels, "active", "disabled", "a@b.c", "x".repeat(300), null),
    },
  );

export const consoleRoutes: RouteSpec[] = [
  {
    name: "POST /v1/sessions",
    method: "POST",
    path: () => fc.constant("/v1/sessions"),
    body: () => bodyText(mutatedBody(loginBases(), [["email"], ["password"]])),
  },
  { name: "GET /v1/sessions/current", method: "GET", path: () => fc.constant("/v1/sessions/current") },
  {
    name: "DELETE /v1/sessions/current",
    method: "DELETE",
    path: () => fc.constant("/v1/sessions/current"),
    body: () => bodyText(weirdValue),
  },
  {
    name: "POST /v1/users",
    method: "POST",
    path: () => fc.constant("/v1/users"),
    body: () => bodyText(mutatedBody(userBases(), [["email"], ["password"], ["role"], ["channel_id"]], userValues())),
  },
  { name: "GET /v1/users", method: "GET", path: () => fc.constant("/v1/users"), query: ["limit", "cursor"] },
  { name: "GET /v1/users/{id}", method: "GET", path: () => ids.usr().map((id) => `/v1/users/${id}`) },
  {
    name: "PATCH /v1/users/{id}",
    method: "PATCH",
    path: () => ids.usr().map((id) => `/v1/users/${id}`),
    body: () =>
      bodyText(mutatedBody(userPatchBases(), [["role"], ["status"], ["password"], ["channel_id"]], userValues())),
  },
  {
    name: "DELETE /v1/users/{id}/sessions",
    method: "DELETE",
    path: () => ids.usr().map((id) => `/v1/users/${id}/sessions`),
    body: () => bodyText(weirdValue),
  },
  {
    name: "POST /v1/exports",
    method: "POST",
    path: () => fc.constant("/v1/exports"),
    body: () =>
      bodyText(mutatedBody(exportBases(), [["kind"], ["filter"], ["filter", "status"], ["filter", "outcome"]])),
  },
  { name: "GET /v1/exports", method: "GET", path: () => fc.constant("/v1/exports") },
  { name: "GET /v1/exports/{id}", method: "GET", path: () => exportIds().map((id) => `/v1/exports/${id}`) },
  {
    name: "GET /v1/exports/{id}/file",
    method: "GET",
    path: () => exportIds().map((id) => `/v1/exports/${id}/file`),
  },
  {
    name: "POST /v1/campaigns",
    method: "POST",
    path: () => fc.constant("/v1/campaigns"),
    body: () =>
      bodyText(
        mutatedBody(campaignBases(), [
          ["name"],
          ["product_id"],
          ["starts_at"],
          ["ends_at"],
          ["max_claims"],
          ["channel_id"],
        ]),
      ),
  },
  { name: "GET /v1/campaigns", method: "GET", path: () => fc.constant("/v1/campaigns"), query: ["limit", "cursor"] },
  { name: "GET /v1/campaigns/{id}", method: "GET", path: () => ids.cmp().map((id) => `/v1/campaigns/${id}`) },
  {
    name: "PATCH /v1/campaigns/{id}",
    method: "PATCH",
    path: () => ids.cmp().map((id) => `/v1/campaigns/${id}`),
    body: () =>
      bodyText(
        mutatedBody(
          fc.constantFrom<Record<string, unknown>>({ status: "active" }, { max_claims: 5 }, { daily_max: null }),
          [["status"], ["max_claims"], ["ends_at"]],
        ),
      ),
  },
  {
    name: "POST /v1/campaigns/{id}/claims",
    method: "POST",
    path: () => ids.cmp().map((id) => `/v1/campaigns/${id}/claims`),
    body: () =>
      bodyText(
        mutatedBody(fc.constantFrom<Record<string, unknown>>({ customer_ref: "fuzz-customer" }), [["customer_ref"]]),
      ),
  },
  {
    name: "POST /v1/public/campaigns/{id}/claims",
    method: "POST",
    path: () => ids.cmp().map((id) => `/v1/public/campaigns/${id}/claims`),
    idempotency: true,
    body: () =>
      bodyText(
        mutatedBody(
          fc.constantFrom<Record<string, unknown>>({ customer_ref: "fuzz-browser", turnstile_token: "pass-fuzz" }),
          [["customer_ref"], ["turnstile_token"]],
        ),
      ),
  },
  {
    name: "GET /v1/campaigns/{id}/claims/{claim_id}",
    method: "GET",
    path: () => fc.tuple(ids.cmp(), ids.clm()).map(([c, k]) => `/v1/campaigns/${c}/claims/${k}`),
  },
  {
    name: "POST /v1/events",
    method: "POST",
    path: () => fc.constant("/v1/events"),
    body: () =>
      bodyText(
        mutatedBody(
          fc.constantFrom<Record<string, unknown>>(
            { type: "conversion", customer_ref: "fuzz-customer", value: 1000 },
            { type: "customer.registered", customer_ref: "fuzz-new-customer" },
          ),
          [["type"], ["customer_ref"], ["value"]],
        ),
      ),
  },
];
