/** API keys of a channel: create (shown once), list, revoke. Keys are stored as SHA-256 only. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  getPublishableKey,
  insertApiKey,
  type KeyRow,
  listApiKeys,
  listPublishableKeys,
  revokeApiKey,
} from "../db/keys";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import { visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { ApiError, notFound } from "../lib/errors";
import { createPublishableKey, ORIGIN, revokePublishableKey } from "../lib/publishable-keys";
import { validationHook } from "../lib/validation";
import { forgetKeys, requireScope } from "../security/auth";
import { sha256Hex } from "../security/primitives";
import { CHANNEL_SCOPES, SCOPES } from "../security/scopes";
import { base64urlEncode } from "../security/secrets";
import { signingSecret } from "../security/signing";
import { commonErrors, idParam, json, jsonBody } from "./schemas";

export const keysApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Keys"];

const KeyCreate = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .max(SCOPES.length)
      .optional()
      .openapi({ description: "Default: every scope a key of that channel may hold (and the caller holds)" }),
    expires_at: z
      .string()
      .datetime({ offset: true })
      .refine((d) => Date.parse(d) > Date.now(), "must be in the future")
      .optional(),
    rate_limit_per_minute: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .openapi({ description: "This key's own request limit (exact); default: the shared per-key limit" }),
    reveal_limit_per_hour: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .openapi({ description: "How many times per hour GET /v1/orders/{id} may reveal codes" }),
    require_signature: z.boolean().optional().openapi({
      description: "Every request must carry X-Signature (see docs/security.md); the signing secret is shown once",
    }),
    type: z.enum(["secret", "publishable"]).optional().openapi({
      description: "publishable: a pk_… key for browsers, only for the checkout endpoints (docs/payments.md)",
    }),
    allowed_origins: z
      .array(z.string().regex(ORIGIN, "an origin such as https://shop.example"))
      .min(1)
      .max(20)
      .optional()
      .openapi({ description: "For publishable keys: the exact origins that may use it" }),
  })
  .strict()
  .refine(
    (k) => (k.type === "publishable") === (k.allowed_origins !== undefined),
    "allowed_origins is required for, and only for, publishable keys",
  )
  .refine(
    (k) =>
      k.type !== "publishable" ||
      (k.scopes ?? k.expires_at ?? k.rate_limit_per_minute ?? k.reveal_limit_per_hour ?? k.require_signature) ===
        undefined,
    "publishable keys take only name and allowed_origins",
  )
  .openapi("KeyCreate");

const KeySchema = z
  .object({
    id: z.string(),
    object: z.literal("api_key"),
    channel_id: z.string(),
    name: z.string().nullable(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    secret: z.string().optional().openapi({ description: "The key itself: shown once, on creation" }),
    rate_limit_per_minute: z.number().nullable(),
    reveal_limit_per_hour: z.number().nullable(),
    require_signature: z.boolean(),
    signing_secret: z
      .string()
      .optional()
      .openapi({ description: "For keys with require_signature: shown once, on creation" }),
    type: z.enum(["secret", "publishable"]).optional(),
    allowed_origins: z.array(z.string()).optional(),
  })
  .openapi("ApiKey");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const view = (r: KeyRow) => ({
  id: r.id,
  object: "api_key" as const,
  channel_id: r.channel_id,
  name: r.name,
  prefix: r.prefix,
  scopes: JSON.parse(r.scopes) as string[],
  created_at: iso(r.created_at)!,
  expires_at: iso(r.expires_at),
  revoked_at: iso(r.revoked_at),
  last_used_at: iso(r.last_used_at),
  rate_limit_per_minute: r.rate_limit_per_minute,
  reveal_limit_per_hour: r.reveal_limit_per_hour,
  require_signature: r.require_signature === 1,
});

keysApp.openapi(
  createRoute({
    method: "post",
    path: "/channels/{id}/keys",
    tags,
    summary: "Create an API key for a channel (shown once)",
    request: { params: idParam("chn"), body: jsonBody(KeyCreate) },
    responses: { 201: json(KeySchema, "The key, with its secret"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "keys:write");
    const channelId = (await visibleChannel(c.env.DB, auth, c.req.valid("param").id)).id;
    const body = c.req.valid("json");
    if (body.type === "publishable") {
      const pk = await createPublishableKey(c.env.DB, channelId, body.name ?? null, body.allowed_origins!);
      c.header("Cache-Control", "no-store");
      return c.json(
        {
          id: pk.id,
          object: "api_key" as const,
          channel_id: channelId,
          name: pk.name,
          prefix: pk.prefix,
          scopes: ["checkout"],
          created_at: iso(pk.created_at)!,
          expires_at: null,
          revoked_at: null,
          last_used_at: null,
          rate_limit_per_minute: null,
          reveal_limit_per_hour: null,
          require_signature: false,
          secret: pk.secret,
          type: "publishable" as const,
          allowed_origins: pk.allowed_origins,
        },
        201,
      );
    }
    // A key never gets more than its channel may hold, nor more than the key that makes it.
    const allowed = (channelId === ROOT_CHANNEL_ID ? SCOPES : CHANNEL_SCOPES).filter((s) => auth.scopes.has(s));
    const wanted = body.scopes ?? allowed;
    const excess = wanted.filter((s) => !allowed.includes(s));
    if (excess.length) throw new ApiError(403, "forbidden", `a key of this channel cannot hold ${excess.join(", ")}`);
    const secret = `vek_${base64urlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
    const row: KeyRow = {
      id: newId("key"),
      channel_id: channelId,
      name: body.name ?? null,
      prefix: secret.slice(0, 12),
      scopes: JSON.stringify([...new Set(wanted)]),
      created_at: Date.now(),
      expires_at: body.expires_at ? Date.parse(body.expires_at) : null,
      revoked_at: null,
      last_used_at: null,
      rate_limit_per_minute: body.rate_limit_per_minute ?? null,
      reveal_limit_per_hour: body.reveal_limit_per_hour ?? null,
      require_signature: body.require_signature ? 1 : 0,
    };
    await insertApiKey(c.env.DB, row, await sha256Hex(secret));
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        ...view(row),
        secret,
        ...(row.require_signature ? { signing_secret: await signingSecret(c.env, row.id) } : {}),
      },
      201,
    );
  },
);

keysApp.openapi(
  createRoute({
    method: "get",
    path: "/channels/{id}/keys",
    tags,
    summary: "A channel's keys (never their secrets)",
    request: { params: idParam("chn") },
    responses: {
      200: json(z.object({ object: z.literal("list"), data: z.array(KeySchema) }), "Keys"),
      ...commonErrors,
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "keys:write");
    const channel = await visibleChannel(c.env.DB, auth, c.req.valid("param").id);
    const results = await listApiKeys(c.env.DB, channel.id);
    const pks = await listPublishableKeys(c.env.DB, channel.id);
    const publishable = pks.map((k) => ({
      id: k.id,
      object: "api_key" as const,
      channel_id: channel.id,
      name: k.name,
      prefix: k.prefix,
      scopes: ["checkout"],
      created_at: iso(k.created_at)!,
      expires_at: null,
      revoked_at: iso(k.revoked_at),
      last_used_at: null,
      rate_limit_per_minute: null,
      reveal_limit_per_hour: null,
      require_signature: false,
      type: "publishable" as const,
      allowed_origins: JSON.parse(k.allowed_origins) as string[],
    }));
    return c.json({ object: "list" as const, data: [...results.map(view), ...publishable] }, 200);
  },
);

keysApp.openapi(
  createRoute({
    method: "delete",
    path: "/channels/{id}/keys/{key_id}",
    tags,
    summary: "Revoke a key",
    request: { params: idParam("chn").merge(idParam("key", "key_id")) },
    responses: { 200: json(KeySchema, "Revoked"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "keys:write");
    const { key_id } = c.req.valid("param");
    const id = (await visibleChannel(c.env.DB, auth, c.req.valid("param").id)).id;
    const row = await revokeApiKey(c.env.DB, id, key_id, Date.now());
    if (!row && (await revokePublishableKey(c.env.DB, id, key_id))) {
      const pk = (await getPublishableKey(c.env.DB, key_id))!;
      return c.json(
        {
          id: key_id,
          object: "api_key" as const,
          channel_id: id,
          name: pk.name,
          prefix: pk.prefix,
          scopes: ["checkout"],
          created_at: iso(pk.created_at)!,
          expires_at: null,
          revoked_at: iso(pk.revoked_at),
          last_used_at: null,
          rate_limit_per_minute: null,
          reveal_limit_per_hour: null,
          require_signature: false,
          type: "publishable" as const,
          allowed_origins: JSON.parse(pk.allowed_origins) as string[],
        },
        200,
      );
    }
    if (!row) throw notFound("key");
    forgetKeys();
    return c.json(view(row), 200);
  },
);
