/**
 * /v1/users: console users (owners and admins, or the ADMIN_TOKEN, manage them). Passwords are
 * stored as PBKDF2-SHA256 hashes and never returned; a role, status or password change ends the
 * user's sessions.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { channelExists } from "../db/channels";
import { revokeUserSessions } from "../db/sessions";
import { getUser, insertUser, listUsers, otherActiveOwners, type UserRow, updateUser } from "../db/users";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { ApiError, badRequest, conflict, notFound } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { ROLES } from "../security/scopes";
import { hashPassword, requireUserAdmin } from "../security/sessions";
import { commonErrors, errorResponses, idParam, json, jsonBody, listOf, PageQuery, page } from "./schemas";

export const usersApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Users"];

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
  if (!(await channelExists(db, channelId))) throw notFound("channel");
}

async function loadUser(db: D1Database, id: string): Promise<UserRow> {
  const row = await getUser(db, id);
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
    if (!(await insertUser(c.env.DB, row))) throw conflict("email_taken", "a user with this email exists");
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
    const results = await listUsers(c.env.DB, cursor ?? "", limit);
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
      const others = await otherActiveOwners(c.env.DB, user.id);
      if (!others) throw conflict("last_owner", "the last active owner cannot be demoted or disabled");
    }
    const now = Date.now();
    const passwordHash = body.password ? await hashPassword(body.password) : user.password_hash;
    const updated = await updateUser(c.env.DB, {
      id: user.id,
      role,
      status,
      channelId,
      passwordHash,
      now,
      passwordChanged: !!body.password,
    });
    if (!updated) throw notFound("user");
    if (body.password || role !== user.role || status !== user.status || channelId !== user.channel_id) {
      await revokeUserSessions(c.env.DB, user.id, now);
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
    const revoked = await revokeUserSessions(c.env.DB, user.id, Date.now());
    return c.json({ object: "session_revocation" as const, id: user.id, revoked }, 200);
  },
);
