/** Hand-picked requests of the fuzz suite: credentials per key, hostile requests, the JSON routes of the body limit. */
import { f } from "./fuzz-fixtures";
import { ADMIN, type RawRequest } from "./fuzz-transport";

/** A revoked key, a key without the scope, and a child channel's key on root-only routes: token, method, path, body, status. */
export const credentialCases = (): [string, string, string, unknown, number][] => [
  [f.revokedKey, "GET", "/v1/products", undefined, 401],
  [f.readKey, "POST", "/v1/products", { name: "x", price: 1, currency: "CNY" }, 403],
  [f.readKey, "POST", "/v1/orders", { items: [{ product_id: f.product, quantity: 1 }] }, 403],
  [f.readKey, "POST", "/v1/redemptions", { code: f.issued[0] }, 403],
  [f.childKey, "POST", "/v1/products", { name: "x", price: 1, currency: "CNY" }, 403],
  [f.childKey, "POST", `/v1/products/${f.product}/batches`, { generate: { count: 1 } }, 403],
  [f.childKey, "POST", "/v1/codes/void", { code: f.issued[0], reason: "x" }, 403],
  // The parent channel lies outside the child key's subtree: it answers like an unknown id.
  [f.childKey, "GET", "/v1/channels/chn_root/keys", undefined, 404],
  [f.childKey, "GET", `/v1/orders/${f.orders[0]}`, undefined, 404],
  [f.childKey, "POST", `/v1/redemptions/${f.redemptions[0]}/reverse`, undefined, 404],
  [f.childKey, "GET", "/v1/channels/chn_root", undefined, 404],
  [f.childKey, "GET", `/v1/channels/${f.sibling}/summary`, undefined, 404],
  [f.childKey, "POST", `/v1/channels/${f.child}/balance`, { amount: 1, currency: "CNY" }, 403],
  [f.childKey, "POST", "/v1/channels", { name: "x", type: "store", parent_id: f.sibling }, 404],
  [f.readKey, "POST", "/v1/channels", { name: "x", type: "store" }, 403],
  [f.readKey, "GET", `/v1/channels/${f.child}/balance`, undefined, 403],
];

/** Hostile requests picked by hand: odd encodings, prototype keys, deep nesting, missing or wrong bodies. */
export function handPickedCases(): RawRequest[] {
  const auth = `Bearer ${ADMIN}`;
  const cases: RawRequest[] = [
    { method: "GET", path: "/v1/products/%zz", headers: { authorization: auth } },
    { method: "GET", path: "/v1/products/%", headers: { authorization: auth } },
    { method: "GET", path: "/v1/products/%C0%AF/stock", headers: { authorization: auth } },
    { method: "GET", path: "/v1/products?limit=%zz&cursor=%", headers: { authorization: auth } },
    {
      method: "GET",
      path: "/v1/products?limit=1&limit=2&status=active&status=draft",
      headers: { authorization: auth },
    },
    { method: "GET", path: "/v1/orders?limit=1e999&customer_ref=%00", headers: { authorization: auth } },
    { method: "GET", path: `/v1/products?q=${encodeURIComponent("%_\\'\"")}`, headers: { authorization: auth } },
    {
      method: "POST",
      path: "/v1/products",
      headers: { authorization: auth, "content-type": "application/json" },
      body: `{"__proto__":{"root":true},"name":"p","price":1,"currency":"CNY"}`,
    },
    {
      method: "POST",
      path: "/v1/products",
      headers: { authorization: auth, "content-type": "application/json" },
      body: `{"name":"p","price":1e999,"currency":"CNY"}`,
    },
    {
      method: "POST",
      path: "/v1/products",
      headers: { authorization: auth, "content-type": "application/json" },
      body: `{"name":"p","price":1,"currency":"CNY","metadata":{"__proto__":"x","constructor":"y"}}`,
    },
    {
      method: "POST",
      path: "/v1/products",
      headers: { authorization: auth, "content-type": "application/json" },
      body: "[".repeat(50_000) + "]".repeat(50_000),
    },
    {
      method: "POST",
      path: "/v1/products",
      headers: { authorization: auth, "content-type": "application/json" },
      body: `{"name":${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)},"price":1,"currency":"CNY"}`,
    },
    {
      method: "POST",
      path: "/v1/products",
      headers: { authorization: auth },
      body: `{"name":"p","price":1,"currency":"CNY"}`,
    },
    { method: "POST", path: "/v1/products", headers: { authorization: auth, "content-type": "application/json" } },
    {
      method: "POST",
      path: "/v1/products",
      headers: { authorization: auth, "content-type": "multipart/form-data; boundary=x" },
      body: '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\np\r\n--x--',
    },
    {
      method: "POST",
      path: "/v1/orders",
      headers: {
        authorization: auth,
        "content-type": "application/json",
        "idempotency-key": "\u00ff\u00fe\u00fd\u00fc\u00fb\u00fa\u00f9\u00f8",
      },
      body: JSON.stringify({ items: [{ product_id: f.product, quantity: 1 }] }),
    },
    {
      method: "POST",
      path: "/v1/orders",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ items: [{ product_id: f.product, quantity: 1 }] }),
    },
    {
      method: "POST",
      path: "/v1/orders",
      headers: { authorization: auth, "content-type": "application/json", "idempotency-key": "dup-items-12345" },
      body: JSON.stringify({
        items: [
          { product_id: f.product, quantity: 1 },
          { product_id: f.product, quantity: 1 },
        ],
      }),
    },
    {
      method: "POST",
      path: "/v1/codes/verify",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ code: f.cardCodes[1].code }),
    },
    {
      method: "POST",
      path: "/v1/codes/verify",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ code: "\uD800\uDC00".repeat(100) }),
    },
    {
      method: "POST",
      path: `/v1/products/${f.product}/batches`,
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ generate: { count: 1, length: 6, charset: "digits" } }),
    },
    {
      method: "POST",
      path: `/v1/products/${f.topup}/batches`,
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ generate: { count: 1 } }),
    },
    {
      method: "POST",
      path: `/v1/products/${f.product}/batches`,
      headers: { authorization: auth, "content-type": "text/csv" },
      body: "\uFEFFcode\r\n\r\n\r\n",
    },
    {
      method: "PATCH",
      path: `/v1/products/${f.archived}`,
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ status: "active" }),
    },
    { method: "DELETE", path: `/v1/channels/chn_root/keys/${f.keyIds[0]}`, headers: { authorization: auth } },
  ];
  // Wrong PINs until the card locks, then the right one: 404s, then 423 card_locked.
  for (let i = 0; i < 6; i++)
    cases.push({
      method: "POST",
      path: "/v1/codes/verify",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ code: f.cardCodes[2].code, pin: `9999999${i}` }),
    });
  cases.push({
    method: "POST",
    path: "/v1/redemptions",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify(f.cardCodes[2]),
  });
  // Every body route with no body, an empty body, and a body of the wrong type, with and without a Content-Type.
  const bodyRoutes: [string, string][] = [
    ["POST", "/v1/products"],
    ["PATCH", `/v1/products/${f.patchTargets[0]}`],
    ["POST", `/v1/products/${f.product}/batches`],
    ["POST", "/v1/orders"],
    ["POST", "/v1/codes/verify"],
    ["POST", "/v1/redemptions"],
    ["POST", `/v1/redemptions/${f.redemptions[1]}/reverse`],
    ["POST", "/v1/codes/void"],
    ["POST", "/v1/channels/chn_root/keys"],
    ["DELETE", `/v1/channels/chn_root/keys/${f.keyIds[1]}`],
    ["POST", "/v1/channels"],
    ["PATCH", `/v1/channels/${f.grandchild}`],
    ["PUT", `/v1/channels/${f.grandchild}/products/${f.product}`],
    ["POST", `/v1/products/${f.product}/allocations`],
    ["POST", `/v1/channels/${f.grandchild}/balance`],
  ];
  const shapes: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    [undefined, ""],
    [undefined, "{}"],
    ["application/json", undefined],
    ["application/json", ""],
    ["text/csv", ""],
    ["text/plain", "{}"],
    ["application/json", "null"],
  ];
  for (const [method, path] of bodyRoutes) {
    for (const [ct, body] of shapes)
      cases.push({
        method,
        path,
        headers: { authorization: auth, "content-type": ct, "idempotency-key": "empty-body-case-1" },
        body,
      });
  }
  return cases;
}

/** Every route with a JSON body, for the 1 MB limit. */
export const jsonRoutes = (): [string, string][] => [
  ["POST", "/v1/products"],
  ["PATCH", `/v1/products/${f.patchTargets[0]}`],
  ["POST", "/v1/orders"],
  ["POST", "/v1/codes/verify"],
  ["POST", "/v1/redemptions"],
  ["POST", "/v1/codes/void"],
  ["POST", `/v1/redemptions/${f.redemptions[0]}/reverse`],
  ["POST", "/v1/channels/chn_root/keys"],
  ["POST", "/v1/channels"],
  ["PATCH", `/v1/channels/${f.child}`],
  ["PUT", `/v1/channels/${f.child}/products/${f.product}`],
  ["POST", `/v1/products/${f.product}/allocations`],
  ["POST", `/v1/channels/${f.child}/balance`],
];
