/** Fuzz routes of the ledger (docs/ledger.md): settlement rules, statements, payouts, reconciliation. */
import fc from "fast-check";
import { bodyText } from "./fuzz-bodies";
import { f } from "./fuzz-fixtures";
import { channelIdPath, type RouteSpec } from "./fuzz-inputs";
import { idSegment } from "./fuzz-requests";
import { mutatedBody, weirdValue } from "./fuzz-values";

const settlementBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { bps: 800 },
    { fixed_per_unit: 5, cap: 100 },
    {},
    { bps: 300, overrides: [{ product_id: f.product, bps: 100, cap: 10 }] },
    { overrides: [{ product_id: f.card, fixed_per_unit: 3 }] },
  );
const settlementValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      0,
      10_000,
      10_001,
      -1,
      1.5,
      1_000_000_000_001,
      "prd_x",
      [],
      [{}],
      [{ product_id: "prd_x" }],
    ),
  },
);
const payoutBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { channel_id: f.child },
    { channel_id: f.grandchild, currency: "CNY" },
    { channel_id: "chn_root" },
  );

export const ledgerRoutes: RouteSpec[] = [
  {
    name: "PUT /v1/channels/{id}/settlement",
    method: "PUT",
    path: channelIdPath("/settlement"),
    body: () =>
      bodyText(
        mutatedBody(
          settlementBases(),
          [
            ["bps"],
            ["fixed_per_unit"],
            ["cap"],
            ["overrides"],
            ["overrides", 0],
            ["overrides", 0, "bps"],
            ["overrides", 0, "product_id"],
          ],
          settlementValues,
        ),
      ),
  },
  { name: "GET /v1/channels/{id}/settlement", method: "GET", path: channelIdPath("/settlement") },
  {
    name: "GET /v1/channels/{id}/statements",
    method: "GET",
    path: channelIdPath("/statements"),
    query: ["from", "to", "format"],
  },
  {
    name: "POST /v1/payouts",
    method: "POST",
    path: () => fc.constant("/v1/payouts"),
    body: () =>
      bodyText(
        mutatedBody(
          payoutBases(),
          [["channel_id"], ["currency"]],
          fc.oneof(weirdValue, fc.constantFrom(...f.channels, "CNY", "usd")),
        ),
      ),
  },
  {
    name: "GET /v1/payouts",
    method: "GET",
    path: () => fc.constant("/v1/payouts"),
    query: ["limit", "cursor", "channel_id", "status"],
  },
  {
    name: "GET /v1/reconciliation",
    method: "GET",
    path: () => fc.constant("/v1/reconciliation"),
    query: ["date"],
    runs: 40,
  },
  {
    name: "GET /v1/reconciliation/runs",
    method: "GET",
    path: () => fc.constant("/v1/reconciliation/runs"),
    query: ["limit", "cursor", "status"],
  },
  { name: "GET /v1/payouts/{id}", method: "GET", path: () => idSegment("pyo", []).map((id) => `/v1/payouts/${id}`) },
  {
    name: "POST /v1/payouts/{id}/paid",
    method: "POST",
    path: () => idSegment("pyo", []).map((id) => `/v1/payouts/${id}/paid`),
    body: () => bodyText(weirdValue),
  },
];
