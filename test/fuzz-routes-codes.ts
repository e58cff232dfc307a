/** Fuzz routes of orders and codes: buy, verify, redeem, reverse, void, and the public verify and redeem. */
import fc from "fast-check";
import { bodyText } from "./fuzz-bodies";
import { f } from "./fuzz-fixtures";
import { codeLike, ids, pinLike, type RouteSpec } from "./fuzz-inputs";
import { mutatedBody, nastyString, type Path, weirdValue } from "./fuzz-values";

const orderBases = () =>
  fc.constantFrom<Record<string, unknown>>(
    { items: [{ product_id: f.product, quantity: 1 }] },
    { items: [{ product_id: f.limited, quantity: 2 }], customer_ref: "cust-1" },
    {
      items: [
        { product_id: f.product, quantity: 1 },
        { product_id: f.card, quantity: 1 },
      ],
      customer_ref: "cust-2",
      external_ref: "ext-1",
    },
    { items: [{ product_id: f.draft, quantity: 1 }] },
    { items: [{ product_id: f.ended, quantity: 1 }] },
    { items: [{ product_id: f.topup, quantity: 1 }] },
    { items: [{ product_id: f.archived, quantity: 1 }] },
    { items: [{ product_id: f.link, quantity: 1 }] },
    { items: [{ product_id: f.card, quantity: 1000 }] },
    { items: [{ product_id: f.topup, quantity: 1, account: "13800138000" }] },
    { items: [{ product_id: f.product, quantity: 1, account: "13800138000" }] },
  );
const orderPaths: Path[] = [
  ["items"],
  ["items", 0],
  ["items", 0, "product_id"],
  ["items", 0, "quantity"],
  ["items", 0, "account"],
  ["items", 1],
  ["items", 1, "quantity"],
  ["customer_ref"],
  ["external_ref"],
];
const orderValues = fc.oneof(
  { weight: 4, arbitrary: weirdValue },
  { weight: 1, arbitrary: fc.constantFrom("prd_abc", "prd_", 1000, 1001, 0, 20, 21) },
);

const codeBodies = (withRedeemer: boolean) => () => {
  const card = fc.constantFrom(...f.cardCodes).map((c) => ({ code: c.code, pin: c.pin }));
  const plain = fc.record(
    {
      code: codeLike(),
      pin: fc.option(pinLike(), { nil: undefined }),
      ...(withRedeemer ? { redeemer: fc.option(nastyString, { nil: undefined }) } : {}),
    },
    { requiredKeys: ["code"] },
  );
  return mutatedBody(fc.oneof(plain, card) as fc.Arbitrary<Record<string, unknown>>, [["code"], ["pin"], ["redeemer"]]);
};

/** Code ids: well-formed but unknown, odd-length hex, too short, and junk. */
const codeRefs = () =>
  fc.oneof(
    fc.constantFrom("cod_00112233445566778899aabbccddeeff", "cod_0011223", "cod_zz", "cod_", "code_1"),
    fc.string({ unit: "binary", maxLength: 12 }).map(encodeURIComponent),
  );

export const codeRoutes: RouteSpec[] = [
  {
    name: "POST /v1/orders",
    method: "POST",
    path: () => fc.constant("/v1/orders"),
    body: () => bodyText(mutatedBody(orderBases(), orderPaths, orderValues)),
    idempotency: true,
    runs: 200,
  },
  {
    name: "GET /v1/orders",
    method: "GET",
    path: () => fc.constant("/v1/orders"),
    query: ["limit", "cursor", "status", "customer_ref", "external_ref", "product_id", "from", "to"],
  },
  {
    name: "GET /v1/redemptions",
    method: "GET",
    path: () => fc.constant("/v1/redemptions"),
    query: ["limit", "cursor", "outcome", "channel_id", "product_id", "order_id", "from", "to"],
  },
  {
    name: "GET /v1/analytics",
    method: "GET",
    path: () => fc.constant("/v1/analytics"),
    query: ["from", "to", "channel_id", "interval", "tz_offset_minutes", "currency"],
  },
  { name: "GET /v1/live", method: "GET", path: () => fc.constant("/v1/live") },
  { name: "GET /v1/orders/{id}", method: "GET", path: () => ids.ord().map((id) => `/v1/orders/${id}`) },
  {
    name: "POST /v1/codes/verify",
    method: "POST",
    path: () => fc.constant("/v1/codes/verify"),
    body: () => bodyText(codeBodies(true)()),
  },
  {
    name: "POST /v1/redemptions",
    method: "POST",
    path: () => fc.constant("/v1/redemptions"),
    body: () => bodyText(codeBodies(true)()),
    runs: 200,
  },
  {
    name: "POST /v1/redemptions/{id}/reverse",
    method: "POST",
    path: () => ids.rdm().map((id) => `/v1/redemptions/${id}/reverse`),
    body: () => bodyText(weirdValue),
  },
  { name: "GET /v1/events", method: "GET", path: () => fc.constant("/v1/events"), query: ["limit", "cursor", "type"] },
  {
    name: "GET /v1/codes",
    method: "GET",
    path: () => fc.constant("/v1/codes"),
    query: ["last4", "order_id", "status", "product_id", "limit", "cursor"],
  },
  {
    name: "POST /v1/codes/{id}/void",
    method: "POST",
    path: () => codeRefs().map((id) => `/v1/codes/${id}/void`),
    body: () => bodyText(mutatedBody(fc.constant({ reason: "fuzz" }), [["reason"]])),
  },
  {
    name: "POST /v1/codes/{id}/reveal",
    method: "POST",
    path: () => codeRefs().map((id) => `/v1/codes/${id}/reveal`),
    body: () => bodyText(mutatedBody(fc.constant({ password: "fuzz password" }), [["password"]])),
  },
  {
    name: "POST /v1/codes/void",
    method: "POST",
    path: () => fc.constant("/v1/codes/void"),
    body: () =>
      bodyText(
        mutatedBody(
          fc.record({
            code: fc.oneof(fc.constantFrom(...f.voidable), codeLike()),
            reason: fc.oneof(fc.constant("leaked"), nastyString),
          }),
          [["code"], ["reason"]],
        ),
      ),
  },
];

/** The consumer widget's verify and redeem: no key, rate-limited and failure-budgeted per IP. */
export const publicCodeRoutes: RouteSpec[] = [
  {
    name: "POST /v1/public/codes/verify",
    method: "POST",
    path: () => fc.constant("/v1/public/codes/verify"),
    body: () => bodyText(codeBodies(true)()),
    runs: 60,
  },
  {
    name: "POST /v1/public/redemptions",
    method: "POST",
    path: () => fc.constant("/v1/public/redemptions"),
    body: () => bodyText(codeBodies(true)()),
    runs: 60,
  },
];
