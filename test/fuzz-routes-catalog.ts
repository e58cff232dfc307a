/** Fuzz routes of the catalog: products, their batches (JSON and CSV) and the re-encryption job. */
import fc from "fast-check";
import { bodyText } from "./fuzz-bodies";
import { ids, type RouteSpec } from "./fuzz-inputs";
import { mutatedBody, nastyString, type Path, weirdValue } from "./fuzz-values";

const productBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { name: "Fuzz", kind: "code", price: 100, currency: "CNY" },
    {
      name: "Fuzz full",
      kind: "card",
      description: "d",
      face_value: 100,
      price: 90,
      currency: "USD",
      validity: { type: "relative", days: 30 },
      limits: { per_order_max: 5, per_customer_max: 10, per_customer_window_days: 7 },
      reversal_window_hours: 1,
      shards: 2,
      status: "active",
      metadata: { a: "b" },
    },
    {
      name: "Fuzz link",
      kind: "link",
      price: 1,
      currency: "EUR",
      claim_url_template: "https://shop.example/c?x={code}",
      validity: { type: "absolute", starts_at: "2020-01-01T00:00:00Z", ends_at: "2099-01-01T00:00:00+08:00" },
    },
  );
const productPaths: Path[] = [
  ["name"],
  ["kind"],
  ["description"],
  ["face_value"],
  ["price"],
  ["currency"],
  ["validity"],
  ["validity", "type"],
  ["validity", "days"],
  ["validity", "starts_at"],
  ["validity", "ends_at"],
  ["limits"],
  ["limits", "per_order_max"],
  ["limits", "per_customer_max"],
  ["limits", "per_customer_window_days"],
  ["reversal_window_hours"],
  ["claim_url_template"],
  ["shards"],
  ["status"],
  ["metadata"],
  ["metadata", "__proto__"],
  ["metadata", "constructor"],
  ["metadata", "k"],
];
const productValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "code",
      "card",
      "link",
      "topup",
      "draft",
      "archived",
      "paused",
      "absolute",
      "relative",
      "none",
      "CNY",
      "cny",
      "XXXX",
      "2020-02-30T00:00:00Z",
      "2027-01-01T00:00:00+25:00",
      "0000-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999999999Z",
      "https://a.example/{code}",
      "javascript:{code}",
      "http://[::1]/{code}",
    ),
  },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 45 }), fc.string({ maxLength: 10 }), { maxKeys: 25 }) },
);

const patchBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { name: "Renamed" },
    { price: 200 },
    { description: null },
    { limits: { per_order_max: 3 } },
    { validity: { type: "none" } },
    { status: "paused" },
    { status: "active" },
    { metadata: null },
    { claim_url_template: "https://x.example/{code}" },
    { reversal_window_hours: 0, face_value: null },
  );

const batchBases = () =>
  fc.oneof(
    fc.constantFrom<Record<string, unknown>>(
      { generate: { count: 2 } },
      {
        generate: {
          count: 1,
          length: 20,
          charset: "alphanumeric",
          prefix: "VIP",
          group_size: 5,
          separator: " ",
          pin_length: 6,
        },
      },
      { generate: { count: 1, length: 13, charset: "digits", group_size: 0, separator: "" } },
      { generate: { count: 1, length: 6 } },
    ),
    fc
      .array(
        fc.record(
          {
            code: fc.oneof(fc.stringMatching(/^FZ[0-9A-Z]{4,18}$/), nastyString),
            pin: fc.option(fc.oneof(fc.stringMatching(/^[0-9]{4,10}$/), nastyString)),
          },
          { requiredKeys: ["code"] },
        ),
        { minLength: 1, maxLength: 6 },
      )
      .map((codes) => ({ import: { codes } })),
  );
const batchPaths: Path[] = [
  ["generate"],
  ["generate", "count"],
  ["generate", "length"],
  ["generate", "charset"],
  ["generate", "prefix"],
  ["generate", "group_size"],
  ["generate", "separator"],
  ["generate", "pin_length"],
  ["import"],
  ["import", "codes"],
  ["import", "codes", 0],
  ["import", "codes", 0, "code"],
  ["import", "codes", 0, "pin"],
  ["import", "codes", 1],
];
const batchValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "crockford32",
      "digits",
      "alphanumeric",
      "-",
      " ",
      "",
      "ABCDEFGHIJKLM",
      "O0IL",
      6,
      64,
      65,
      16,
      4,
    ),
  },
);

const csvCell = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[0-9A-Z]{4,20}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '"QUOTED123"',
      '""',
      '"',
      "code",
      "pin",
      "",
      " ",
      "ABCD-EFGH-JKMN-PQRS",
      "0000-0000-0000-0000",
      "x".repeat(300),
      "=cmd|' /C calc'!A0",
    ),
  },
  { weight: 2, arbitrary: nastyString.map((s) => s.replace(/[\r\n,]/g, "")) },
);
const csvText = fc
  .record({
    bom: fc.boolean(),
    header: fc.constantFrom("", "code", "code,pin", '"code","pin"', "CODE , PIN", "Code;Pin"),
    lines: fc.array(
      fc.oneof(
        csvCell,
        fc.tuple(csvCell, csvCell).map(([a, b]) => `${a},${b}`),
        fc.array(csvCell, { maxLength: 4 }).map((a) => a.join(",")),
      ),
      { maxLength: 15 },
    ),
    eol: fc.constantFrom("\n", "\r\n", "\r"),
    trailing: fc.nat(3),
  })
  .map(
    ({ bom, header, lines, eol, trailing }) =>
      (bom ? "\uFEFF" : "") + [...(header ? [header] : []), ...lines].join(eol) + eol.repeat(trailing),
  );

export const catalogRoutes: RouteSpec[] = [
  {
    name: "POST /v1/products",
    method: "POST",
    path: () => fc.constant("/v1/products"),
    body: () => bodyText(mutatedBody(productBases(), productPaths, productValues)),
  },
  {
    name: "GET /v1/products",
    method: "GET",
    path: () => fc.constant("/v1/products"),
    query: ["limit", "cursor", "status", "kind", "q"],
  },
  { name: "GET /v1/products/{id}", method: "GET", path: () => ids.prd().map((id) => `/v1/products/${id}`) },
  {
    name: "PATCH /v1/products/{id}",
    method: "PATCH",
    path: () => ids.patch().map((id) => `/v1/products/${id}`),
    body: () => bodyText(mutatedBody(patchBases(), productPaths, productValues)),
  },
  { name: "GET /v1/products/{id}/stock", method: "GET", path: () => ids.prd().map((id) => `/v1/products/${id}/stock`) },
  {
    name: "POST /v1/products/{id}/batches (json)",
    method: "POST",
    path: () => ids.prd().map((id) => `/v1/products/${id}/batches`),
    body: () => bodyText(mutatedBody(batchBases(), batchPaths, batchValues)),
  },
  {
    name: "POST /v1/products/{id}/batches (csv)",
    method: "POST",
    path: () => ids.prd().map((id) => `/v1/products/${id}/batches`),
    body: () => csvText,
    contentType: () =>
      fc.constantFrom(
        "text/csv",
        "text/csv; charset=utf-8",
        "TEXT/CSV",
        "text/csv;header=present",
        undefined,
        "text/plain",
        "application/csv",
      ),
  },
  { name: "GET /v1/batches/{id}", method: "GET", path: () => ids.bat().map((id) => `/v1/batches/${id}`) },
  {
    name: "GET /v1/products/{id}/batches",
    method: "GET",
    path: () => ids.prd().map((id) => `/v1/products/${id}/batches`),
    query: ["limit", "cursor"],
  },
];

/** Re-encryption after a key rotation: every call asks every product shard, so few runs. */
export const adminRoutes: RouteSpec[] = [
  {
    name: "POST /v1/admin/reencrypt",
    method: "POST",
    path: () => fc.constant("/v1/admin/reencrypt"),
    body: () => bodyText(weirdValue),
    runs: 15,
  },
  { name: "GET /v1/admin/reencrypt", method: "GET", path: () => fc.constant("/v1/admin/reencrypt"), runs: 15 },
];
