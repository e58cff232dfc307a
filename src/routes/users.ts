/**
 * /v1/users: console users (owners and admins, or the ADMIN_TOKEN, manage them). Passwords are
 * stored as PBKDF2-SHA256 hashes and never returned; a role, status or password change ends the
 * user's sessions.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { ApiError, badRequest, conflict, notFound } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { hashPassword, ROLES, requireUserAdmin } from "../security/sessions";
import { commonErrors, errorResponses, idParam, json, jsonBody, listOf, PageQuery, page } from "./schemas";

export const usersApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Users"];

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  role: string;
  channel_id: string | null;
  status: string;
  failed_logins: number;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
}

export const UserSchema = z
  .object({
    id: z.string(),
    object: z.literal("user"),
    email: z.string(),
    role: z.enum(ROLES),
    channel_id: z.string().nullable(),
    status: z.enum(["active", "disabled"]),
    locked_until: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("User");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** The public view of a user: never the password hash nor the failure counter. */
export const userView = (r: UserRow) => ({
  id: r.id,
  object: "user" as const,
  email: r.email,
  role: r.role as (typeof ROLES)[number],
  channel_id: r.channel_id,
  status: r.status as "active" | "disabled",
  locked_until: r.locked_until !== null && r.locked_until > Date.now() ? iso(r.locked_until) : null,
  created_at: iso(r.created_at)!,
  updated_at: iso(r.updated_at)!,
});

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "an email address");
const Password = z
  .string()
  .min(12, "at least 12 characters")
  .max(256)
  .openapi({ description: "12–256 characters; stored as a PBKDF2-SHA256 hash only" });
const ChannelId = z.string().regex(/^chn_[a-z0-9]{1,40}$/, "a chn_ id");

const UserCreate = z
  .object({
    email: Email,
    password: Password,
    role: z.enum(ROLES),
    channel_id: ChannelId.optional().openapi({ description: "Required for channel_manager, not allowed otherwise" }),
  })
  .strict()
  .openapi("UserCreate");

const UserPatch = z
  .object({
    role: z.enum(ROLES).optional(),
    status: z.enum(["active", "disabled"]).optional(),
    password: Password.optional(),
    channel_id: ChannelId.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "change at least one field")
  .openapi("UserPatch");

const UserIdParam = idParam("usr");

async function checkBinding(db: D1Database, role: string, channelId: string | null): Promise<void> {
  if (role !== "channel_manager") {
    if (channelId !== null)
      throw badRequest("only a channel_manager is bound to a channel", "validation_error", { field: "channel_id" });
    return;
  }
  if (channelId === null || channelId === ROOT_CHANNEL_ID)
    throw badRequest("a channel_manager needs the channel_id of a channel below the root", "validation_error", {
      field: "channel_id",
    });
  const exists = await db.prepare("SELECT id FROM channels WHERE id = ?1").bind(channelId).first();
  if (!exists) throw notFound("channel");
}

async function loadUser(db: D1Database, id: string): Promise<UserRow> {
  const row = await db.prepare("SELECT * FROM users WHERE id = ?1").bind(id).first<UserRow>();
  if (!row) throw notFound("user");
  return row;
}

const ownersOnly = () => new ApiError(403, "forbidden", "only an owner manages owners");

usersApp.openapi(
  createRoute({
    method: "post",
    path: "/users",
    tags,
    summary: "Create a console user",
    request: { body: jsonBody(UserCreate) },
    responses: { 201: json(UserSchema, "The user"), ...commonErrors, ...errorResponses(409) },
  }),
  async (c) => {
    const actor = requireUserAdmin(c.get("auth"));
    const body = c.req.valid("json");
    if (body.role === "owner" && actor !== "owner") throw ownersOnly();
    const channelId = body.channel_id ?? null;
    await checkBinding(c.env.DB, body.role, channelId);
    const now = Date.now();
    const row: UserRow = {
      id: newId("usr", now),
      email: body.email,
      password_hash: await hashPassword(body.password),
      role: body.role,
      channel_id: channelId,
      status: "active",
      failed_logins: 0,
      locked_until: null,
      created_at: now,
      updated_at: now,
    };
    const inserted = await c.env.DB.prepare(
      "INSERT INTO users (id, email, password_hash, role, channel_id, status, failed_logins, locked_until, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'active', 0, NULL, ?6, ?6) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
      .bind(row.id, row.email, row.password_hash, row.role, row.channel_id, now)
      .first();
    if (!inserted) throw conflict("email_taken", "a user with this email exists");
    return c.json(userView(row), 201);
  },
);

usersApp.openapi(
  createRoute({
    method: "get",
    path: "/users",
    tags,
    summary: "List console users",
    request: { query: PageQuery },
    responses: { 200: json(listOf(UserSchema, "UserList"), "A page of users"), ...commonErrors },
  }),
  async (c) => {
    requireUserAdmin(c.get("auth"));
    const { limit, cursor } = c.req.valid("query");
    const { results } = await c.env.DB.prepare("SELECT * FROM users WHERE id > ?1 ORDER BY id LIMIT ?2")
      .bind(cursor ?? "", limit + 1)
      .all<UserRow>();
    const p = page(results, limit);
    return c.json({ ...p, data: p.data.map(userView) }, 200);
  },
);

usersApp.openapi(
  createRoute({
    method: "get",
    path: "/users/{id}",
    tags,
    summary: "A console user",
    request: { params: UserIdParam },
    responses: { 200: json(UserSchema, "The user"), ...commonErrors },
  }),
  async (c) => {
    requireUserAdmin(c.get("auth"));
    return c.json(userView(await loadUser(c.env.DB, c.req.valid("param").id)), 200);
  },
);

usersApp.openapi(
  createRoute({
    method: "patch",
    path: "/users/{id}",
    tags,
    summary: "Change a user's role, status or password (ends the user's sessions)",
    request: { params: UserIdParam, body: jsonBody(UserPatch) },
    responses: { 200: json(UserSchema, "The user"), ...commonErrors, ...errorResponses(409) },
  }),
  async (c) => {
    const actor = requireUserAdmin(c.get("auth"));
    const body = c.req.valid("json");
    const user = await loadUser(c.env.DB, c.req.valid("param").id);
    if ((user.role === "owner" || body.role === "owner") && actor !== "owner") throw ownersOnly();
    const role = body.role ?? user.role;
    const status = body.status ?? user.status;
    const channelId =
      body.channel_id !== undefined ? body.channel_id : role === "channel_manager" ? user.channel_id : null;
    await checkBinding(c.env.DB, role, channelId);
    if (user.role === "owner" && user.status === "active" && (role !== "owner" || status !== "active")) {
      const others = await c.env.DB.prepare(
        "SELECT COUNT(*) AS n FROM users WHERE role = 'owner' AND status = 'active' AND id != ?1",
      )
        .bind(user.id)
        .first<{ n: number }>();
      if (!others || others.n === 0)
        throw conflict("last_owner", "the last active owner cannot be demoted or disabled");
    }
    const now = Date.now();
    const passwordHash = body.password ? await hashPassword(body.password) : user.password_hash;
    const updated = await c.env.DB.prepare(
      `UPDATE users SET role = ?2, status = ?3, channel_id = ?4, password_hash = ?5, updated_at = ?6,
         failed_logins = CASE WHEN ?7 THEN 0 ELSE failed_logins END, locked_until = CASE WHEN ?7 THEN NULL ELSE locked_until END
       WHERE id = ?1 RETURNING *`,
    )
      .bind(user.id, role, status, channelId, passwordHash, now, body.password ? 1 : 0)
      .first<UserRow>();
    if (!updated) throw notFound("user");
    if (body.password || role !== user.role || status !== user.status || channelId !== user.channel_id) {
      await c.env.DB.prepare("UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL")
        .bind(user.id, now)
        .run();
    }
    return c.json(userView(updated), 200);
  },
);

const Revocation = z
  .object({ object: z.literal("session_revocation"), id: z.string(), revoked: z.number().int() })
  .openapi("SessionRevocation");

usersApp.openapi(
  createRoute({
    method: "delete",
    path: "/users/{id}/sessions",
    tags,
    summary: "End every session of a user",
    request: { params: UserIdParam },
    responses: { 200: json(Revocation, "How many sessions ended"), ...commonErrors },
  }),
  async (c) => {
    const actor = requireUserAdmin(c.get("auth"));
    const user = await loadUser(c.env.DB, c.req.valid("param").id);
    if (user.role === "owner" && actor !== "owner") throw ownersOnly();
    const res = await c.env.DB.prepare("UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL")
      .bind(user.id, Date.now())
      .run();
    return c.json({ object: "session_revocation" as const, id: user.id, revoked: res.meta.changes ?? 0 }, 200);
  },
);
