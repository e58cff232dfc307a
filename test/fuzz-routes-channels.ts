/** Fuzz routes of channels: keys, the tree, price lists, quotas, balances, summaries and the audit log. */
import fc from "fast-check";
import { bodyText } from "./fuzz-bodies";
import { f } from "./fuzz-fixtures";
import { channelIdPath, ids, type RouteSpec } from "./fuzz-inputs";
import { mutatedBody, type Path, weirdValue } from "./fuzz-values";

const keyBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    {},
    { name: "partner" },
    { scopes: ["orders:write", "orders:read"] },
    { name: "exp", expires_at: "2099-01-01T00:00:00Z" },
    { expires_at: "2001-01-01T00:00:00Z" },
  );
const keyValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ["keys:write"],
      ["admin"],
      [],
      ["orders:write", "orders:write"],
      "2099-01-01T00:00:00+14:00",
      "2099-01-01",
    ),
  },
);

const channelTypes = ["own_store", "marketplace", "partner", "agent", "store", "enterprise", "root", "Agent", ""];
const channelCreateBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { name: "Fuzz sub", type: "agent" },
    { name: "Fuzz store", type: "store", parent_id: f.grandchild },
    { name: "Fuzz partner", type: "partner", parent_id: f.child },
    { name: "Fuzz root child", type: "marketplace", parent_id: "chn_root" },
  );
const channelPatchBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { name: "Renamed" },
    { status: "active" },
    { status: "suspended" },
    { credit_limit: 0 },
    { credit_limit: 50_000, name: "Both" },
    { status: "active", credit_limit: 1 },
  );
const channelValues = () =>
  fc.oneof(
    { weight: 4, arbitrary: weirdValue },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        ...channelTypes,
        ...f.channels,
        "active",
        "suspended",
        "chn_",
        "chn_UPPER",
        0,
        1_000_000_000_000,
        1_000_000_000_001,
        -1,
      ),
    },
  );
const entryBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { enabled: true },
    { enabled: true, price: 100 },
    { enabled: true, discount_bps: 500, allow_below: true },
    { enabled: false },
    { enabled: true, low_water: 2, refill: 5 },
    { enabled: true, price: 0, low_water: 0, refill: 1 },
    { allow_below: false, enabled: true },
  );
const entryPaths: Path[] = [["enabled"], ["price"], ["discount_bps"], ["allow_below"], ["low_water"], ["refill"]];
const entryValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(true, false, null, 0, 1, 10_000, 10_001, 1_000_000, 1_000_001, 1_000_000_000_000),
  },
);
const allocationBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { channel_id: f.child, quantity: 1 },
    { channel_id: f.child, quantity: -1 },
    { channel_id: f.grandchild, quantity: 1 },
    { channel_id: f.sibling, quantity: 2 },
    { channel_id: "chn_root", quantity: 1 },
    { channel_id: f.child, quantity: 1_000_000 },
  );
const allocationValues = () =>
  fc.oneof(
    { weight: 4, arbitrary: weirdValue },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...f.channels, "chn_missing", 0, -1_000_000, 1_000_000, 1_000_001, -1_000_001),
    },
  );
const topUpBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { amount: 100, currency: "CNY" },
    { amount: 1, currency: "CNY", note: "fuzz" },
    { amount: 5, currency: "USD" },
    { amount: 1_000_000_000_000, currency: "CNY" },
  );
const topUpValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  { weight: 1, arbitrary: fc.constantFrom("CNY", "cny", "USD", "XX", 0, 1, 1_000_000_000_001, "x".repeat(501)) },
);

export const channelRoutes: RouteSpec[] = [
  {
    name: "POST /v1/channels/{id}/keys",
    method: "POST",
    path: () => ids.chn().map((id) => `/v1/channels/${id}/keys`),
    body: () => bodyText(mutatedBody(keyBases(), [["name"], ["scopes"], ["scopes", 0], ["expires_at"]], keyValues)),
  },
  { name: "GET /v1/channels/{id}/keys", method: "GET", path: () => ids.chn().map((id) => `/v1/channels/${id}/keys`) },
  {
    name: "DELETE /v1/channels/{id}/keys/{key_id}",
    method: "DELETE",
    path: () => fc.tuple(ids.chn(), ids.key()).map(([c, k]) => `/v1/channels/${c}/keys/${k}`),
    body: () => bodyText(weirdValue),
  },
  {
    name: "POST /v1/channels",
    method: "POST",
    path: () => fc.constant("/v1/channels"),
    body: () => bodyText(mutatedBody(channelCreateBases(), [["name"], ["type"], ["parent_id"]], channelValues())),
  },
  {
    name: "GET /v1/channels",
    method: "GET",
    path: () => fc.constant("/v1/channels"),
    query: ["limit", "cursor", "parent_id", "type", "status"],
  },
  { name: "GET /v1/channels/{id}", method: "GET", path: channelIdPath() },
  {
    name: "PATCH /v1/channels/{id}",
    method: "PATCH",
    path: channelIdPath(),
    body: () => bodyText(mutatedBody(channelPatchBases(), [["name"], ["status"], ["credit_limit"]], channelValues())),
  },
  {
    name: "PUT /v1/channels/{id}/products/{product_id}",
    method: "PUT",
    path: () => fc.tuple(ids.chn(), ids.prd()).map(([c, p]) => `/v1/channels/${c}/products/${p}`),
    body: () => bodyText(mutatedBody(entryBases(), entryPaths, entryValues)),
  },
  {
    name: "POST /v1/products/{id}/allocations",
    method: "POST",
    path: () => ids.prd().map((id) => `/v1/products/${id}/allocations`),
    body: () => bodyText(mutatedBody(allocationBases(), [["channel_id"], ["quantity"]], allocationValues())),
    runs: 200,
  },
  {
    name: "POST /v1/channels/{id}/balance",
    method: "POST",
    path: channelIdPath("/balance"),
    body: () => bodyText(mutatedBody(topUpBases(), [["amount"], ["currency"], ["note"]], topUpValues)),
    runs: 200,
  },
  { name: "GET /v1/channels/{id}/balance", method: "GET", path: channelIdPath("/balance"), query: ["limit", "cursor"] },
  { name: "GET /v1/channels/{id}/summary", method: "GET", path: channelIdPath("/summary"), query: ["from", "to"] },
  {
    name: "GET /v1/audit",
    method: "GET",
    path: () => fc.constant("/v1/audit"),
    query: ["limit", "cursor", "actor_key_id", "action", "resource_id", "from", "to"],
  },
];
