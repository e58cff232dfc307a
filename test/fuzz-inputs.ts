/** Arbitraries over the fixtures (keys, ids, codes, PINs), the route spec and the request it generates. */
import fc from "fast-check";
import { contentTypes } from "./fuzz-bodies";
import { f } from "./fuzz-fixtures";
import { authHeader, idempotencyKey, idSegment, oddHeaders, queryString } from "./fuzz-requests";
import type { RawRequest } from "./fuzz-transport";
import { nastyString } from "./fuzz-values";

export const tokens = () => [
  f.readKey,
  f.childKey,
  f.revokedKey,
  "vek_not_a_real_key_0000000000000000000000",
  f.pk,
  "pk_not_a_real_key_000000000000000",
];
export const ids = {
  prd: () => idSegment("prd", [f.product, f.card, f.link, f.topup, f.draft, f.archived, f.ended, f.limited]),
  patch: () => idSegment("prd", [...f.patchTargets, f.archived, f.topup]),
  bat: () => idSegment("bat", f.batches),
  ord: () => idSegment("ord", f.orders),
  rdm: () => idSegment("rdm", f.redemptions),
  chn: () => idSegment("chn", f.channels),
  key: () => idSegment("key", f.keyIds),
  usr: () => idSegment("usr", f.users),
  whk: () => idSegment("whk", f.webhooks),
  dlv: () => idSegment("dlv", f.deliveries),
  cmp: () => idSegment("cmp", f.campaigns),
  clm: () => idSegment("clm", f.claims),
};

/** A code as people type it: real ones in odd forms, near-misses, random and hostile strings. */
export const codeLike = () => {
  const real = fc.constantFrom(...f.issued, ...f.redeemed, ...f.voidable, ...f.cardCodes.map((c) => c.code));
  return fc.oneof(
    { weight: 4, arbitrary: real },
    { weight: 2, arbitrary: real.map((c) => c.toLowerCase().replace(/-/g, " ")) },
    { weight: 1, arbitrary: real.map((c) => c.replace(/-/g, "").replace(/0/g, "O").replace(/1/g, "l")) },
    { weight: 1, arbitrary: real.map((c) => `${c.slice(0, -1)}${c.endsWith("Z") ? "Y" : "Z"}`) },
    { weight: 1, arbitrary: real.map((c) => `  ${c}\u00a0\t`) },
    {
      weight: 2,
      arbitrary: fc.stringMatching(
        /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/,
      ),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-Z]{4,64}$/) },
    { weight: 2, arbitrary: nastyString },
  );
};
export const pinLike = () =>
  fc.oneof(
    fc.constantFrom(...f.cardCodes.map((c) => c.pin)),
    fc.stringMatching(/^[0-9]{8}$/),
    fc.constantFrom("0000", " ", "x".repeat(64), "x".repeat(65)),
    nastyString,
  );

export interface RouteSpec {
  name: string;
  method: string;
  path: () => fc.Arbitrary<string>;
  query?: string[];
  body?: () => fc.Arbitrary<string>;
  /** Content types other than the JSON-heavy default. */
  contentType?: () => fc.Arbitrary<string | undefined>;
  idempotency?: boolean;
  runs?: number;
  /** The operation (`METHOD /v1/path` as in the OpenAPI document) when the name is not it plus a " (variant)". */
  operation?: string;
}

/** The operation a route spec fuzzes (checked against the app's operations by test/fuzz-coverage.test.ts). */
export const operationOf = (route: RouteSpec) => route.operation ?? route.name.replace(/ \([^)]*\)$/, "");

export const channelIdPath =
  (suffix = "") =>
  () =>
    ids.chn().map((id) => `/v1/channels/${id}${suffix}`);

export function requestArb(route: RouteSpec): fc.Arbitrary<RawRequest> {
  return fc
    .record({
      path: route.path(),
      query: route.query
        ? queryString(route.query)
        : fc.oneof(
            { weight: 5, arbitrary: fc.constant("") },
            { weight: 1, arbitrary: queryString(["limit", "id", "expand"]) },
          ),
      body: route.body ? fc.option(route.body(), { nil: undefined, freq: 12 }) : fc.constant(undefined),
      contentType: route.contentType ? route.contentType() : contentTypes,
      authorization: authHeader(tokens()),
      idem: route.idempotency ? idempotencyKey : fc.option(idempotencyKey, { nil: undefined, freq: 2 }),
      odd: fc.option(oddHeaders, { nil: undefined, freq: 2 }),
    })
    .map(({ path, query, body, contentType, authorization, idem, odd }) => ({
      method: route.method,
      path: path + query,
      headers: {
        ...(odd ?? {}),
        authorization,
        "content-type": body === undefined && route.method === "GET" ? undefined : contentType,
        "idempotency-key": idem,
      },
      body: route.method === "GET" ? undefined : body,
    }));
}
