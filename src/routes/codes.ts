/**
 * Support tools for codes, the merchant's own: GET /v1/codes finds codes by last 4, order, status or product
 * (masked: never the code); POST /v1/codes/{id}/void voids one; POST /v1/codes/{id}/reveal shows one in clear
 * to a console user who types their password again (at most 20 reveals an hour per user, each one in the
 * audit log). An id is `cod_` + the hex of the code's blind index: it names a code without revealing it.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { indexedCode, searchCodes } from "../db/code-index";
import { getUser } from "../db/users";
import type { AppEnv } from "../lib/context";
import { ApiError, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { abuseGuard } from "../objects/abuse-guard";
import { skuPool } from "../objects/sku-pool";
import { requireRoot, requireScope } from "../security/auth";
import { hex } from "../security/primitives";
import { base64urlDecode, base64urlEncode } from "../security/secrets";
import { sessionOf, verifyPassword } from "../security/sessions";
import { commonErrors, errorResponses, json, jsonBody, listOf } from "./schemas";

export const codesApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Codes"];
const REVEALS_PER_HOUR = 20;

const CodeRef = z.string().regex(/^cod_[0-9a-f]{16,80}$/, "a cod_ id");
const toRef = (index: string) => `cod_${hex(base64urlDecode(index) ?? new Uint8Array())}`;
function toIndex(ref: string): string {
  const h = ref.slice(4);
  if (h.length % 2) throw notFound("code");
  return base64urlEncode(Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16)));
}

const CodeEntry = z
  .object({
    id: CodeRef,
    object: z.literal("code"),
    product_id: z.string(),
    last4: z.string(),
    status: z.string(),
    order_id: z.string().nullable(),
    channel_id: z.string().nullable(),
    issued_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    redeemed_at: z.string().nullable(),
  })
  .openapi("CodeEntry");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const entry = (r: Awaited<ReturnType<typeof indexedCode>> & object) => ({
  id: toRef(r.blind_index),
  object: "code" as const,
  product_id: r.product_id,
  last4: r.last4,
  status: r.status,
  order_id: r.order_id,
  channel_id: r.channel_id,
  issued_at: iso(r.issued_at),
  expires_at: iso(r.expires_at),
  redeemed_at: iso(r.redeemed_at),
});

async function codeOr404(db: D1Database, ref: string) {
  const row = await indexedCode(db, toIndex(ref));
  if (!row) throw notFound("code");
  return row;
}

codesApp.openapi(
  createRoute({
    method: "get",
    path: "/codes",
    tags,
    summary: "Find codes (masked) by last 4, order, status or product",
    request: {
      query: z.object({
        last4: z
          .string()
          .regex(/^[A-Za-z0-9]{4}$/)
          .optional(),
        order_id: z
          .string()
          .regex(/^ord_[a-z0-9]{1,40}$/)
          .optional(),
        status: z.enum(["available", "held", "issued", "redeemed", "voided"]).optional(),
        product_id: z
          .string()
          .regex(/^prd_[a-z0-9]{1,40}$/)
          .optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
        cursor: CodeRef.optional().openapi({ description: "next_cursor of the previous page" }),
      }),
    },
    responses: { 200: json(listOf(CodeEntry, "CodeList"), "A page of codes, never their values"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:read");
    requireRoot(auth);
    const q = c.req.valid("query");
    const rows = await searchCodes(c.env.DB, {
      ...q,
      last4: q.last4?.toUpperCase(),
      after: q.cursor ? toIndex(q.cursor) : undefined,
    });
    const data = rows.slice(0, q.limit).map(entry);
    const more = rows.length > q.limit;
    return c.json(
      { object: "list" as const, data, has_more: more, next_cursor: more ? data[data.length - 1].id : null },
      200,
    );
  },
);

codesApp.openapi(
  createRoute({
    method: "post",
    path: "/codes/{id}/void",
    tags,
    summary: "Void one code by its id (support: a leaked or disputed code)",
    request: {
      params: z.object({ id: CodeRef.openapi({ param: { name: "id", in: "path" } }) }),
      body: jsonBody(z.object({ reason: z.string().trim().min(1).max(200) }).strict()),
    },
    responses: { 200: json(CodeEntry, "Voided"), ...commonErrors, ...errorResponses(409) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "codes:write");
    requireRoot(auth);
    const row = await codeOr404(c.env.DB, c.req.valid("param").id);
    const ref = { productId: row.product_id, shard: row.shard };
    const result = await skuPool(c.env, ref).void(ref, row.blind_index, c.req.valid("json").reason);
    if (!result.ok) throw new ApiError(409, result.reason, `the code cannot be voided: ${result.reason}`);
    return c.json({ ...entry(row), status: "voided" }, 200);
  },
);

codesApp.openapi(
  createRoute({
    method: "post",
    path: "/codes/{id}/reveal",
    tags,
    summary: "Show one code in clear to a console user who re-enters their password (audited)",
    request: {
      params: z.object({ id: CodeRef.openapi({ param: { name: "id", in: "path" } }) }),
      body: jsonBody(z.object({ password: z.string().min(1).max(256) }).strict()),
    },
    responses: {
      200: json(
        z.object({
          id: z.string(),
          object: z.literal("code"),
          code: z.string(),
          pin: z.string().optional(),
          expires_at: z.string().nullable(),
        }),
        "The code",
      ),
      ...commonErrors,
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "codes:write");
    requireRoot(auth);
    const session = sessionOf(auth);
    if (!session)
      throw new ApiError(
        403,
        "session_required",
        "codes are revealed to console users only; API keys get codes with their orders",
      );
    const taken = await abuseGuard(c.env, `user:${session.userId}`).take(
      `reveal:${session.userId}`,
      REVEALS_PER_HOUR,
      3_600_000,
    );
    if (!taken.ok)
      throw new ApiError(429, "reveal_limit", "you have revealed as many codes as you may this hour", undefined, {
        "Retry-After": String(Math.ceil(taken.retryAfterMs / 1000)),
      });
    const user = await getUser(c.env.DB, session.userId);
    if (!user || !(await verifyPassword(c.req.valid("json").password, user.password_hash)))
      throw new ApiError(403, "password_mismatch", "the password is wrong; nothing was revealed");
    const { id } = c.req.valid("param");
    const row = await codeOr404(c.env.DB, id);
    const ref = { productId: row.product_id, shard: row.shard };
    const code = await skuPool(c.env, ref).revealCode(ref, row.blind_index);
    if (!code) throw unprocessable("not_revealable", "the code is not stored in its pool");
    c.header("Cache-Control", "no-store");
    return c.json({ id, object: "code" as const, ...code }, 200);
  },
);
