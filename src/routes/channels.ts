/** /v1/channels: the channel tree. Create children, read and list the caller's subtree, rename, suspend. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { channelView, insertChannel, listSubtree, updateChannel } from "../db/channels";
import { CHANNEL_TYPES, childPath, MAX_DEPTH } from "../domain/channels";
import { newId, ROOT_CHANNEL_ID } from "../domain/ids";
import { managedChannel, visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { channelAccount } from "../objects/channel-account";
import { requireScope } from "../security/auth";
import { commonErrors, errorResponses, idParam, json, jsonBody, listOf, PageQuery, page } from "./schemas";

export const channelsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Channels"];
const ChannelId = z.string().regex(/^chn_[a-z0-9]{1,40}$/);

export const ChannelSchema = z
  .object({
    id: z.string(),
    object: z.literal("channel"),
    parent_id: z.string().nullable(),
    name: z.string(),
    type: z.string(),
    status: z.enum(["active", "suspended"]),
    depth: z.number(),
    path: z.array(z.string()).openapi({ description: "Ids from the root down to this channel" }),
    created_at: z.string(),
  })
  .openapi("Channel");

const ChannelCreate = z
  .object({
    name: z.string().trim().min(1).max(200),
    type: z.enum(CHANNEL_TYPES),
    parent_id: ChannelId.optional().openapi({ description: "Default: the caller's own channel" }),
  })
  .strict()
  .openapi("ChannelCreate");

const ChannelPatch = z
  .object({
    name: z.string().trim().min(1).max(200),
    status: z.enum(["active", "suspended"]),
    credit_limit: z
      .number()
      .int()
      .min(0)
      .max(1_000_000_000_000)
      .openapi({ description: "How far below zero the balance may go, minor units" }),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, "send at least one field to change")
  .openapi("ChannelPatch");

channelsApp.openapi(
  createRoute({
    method: "post",
    path: "/channels",
    tags,
    summary: "Create a child channel",
    request: { body: jsonBody(ChannelCreate) },
    responses: { 201: json(ChannelSchema, "The channel"), ...commonErrors, ...errorResponses(422) },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:write");
    const body = c.req.valid("json");
    const parent = await visibleChannel(c.env.DB, auth, body.parent_id ?? auth.channelId);
    if (parent.depth + 1 > MAX_DEPTH)
      throw unprocessable("too_deep", `channels nest at most ${MAX_DEPTH} levels below the merchant`);
    const id = newId("chn");
    const row = {
      id,
      parent_id: parent.id,
      name: body.name,
      type: body.type,
      status: "active",
      path: childPath(parent.path, id),
      depth: parent.depth + 1,
      created_at: Date.now(),
    };
    await insertChannel(c.env.DB, row);
    return c.json(channelView(row), 201);
  },
);

const ListQuery = PageQuery.extend({
  parent_id: ChannelId.optional(),
  type: z.enum([...CHANNEL_TYPES, "root"]).optional(),
  status: z.enum(["active", "suspended"]).optional(),
});

channelsApp.openapi(
  createRoute({
    method: "get",
    path: "/channels",
    tags,
    summary: "The caller's subtree, itself included",
    request: { query: ListQuery },
    responses: { 200: json(listOf(ChannelSchema, "ChannelList"), "A page of channels"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:read");
    const q = c.req.valid("query");
    const rows = await listSubtree(c.env.DB, auth.path, q);
    return c.json(page(rows.map(channelView), q.limit), 200);
  },
);

channelsApp.openapi(
  createRoute({
    method: "get",
    path: "/channels/{id}",
    tags,
    summary: "A channel of the caller's subtree",
    request: { params: idParam("chn") },
    responses: { 200: json(ChannelSchema, "The channel"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:read");
    return c.json(channelView(await visibleChannel(c.env.DB, auth, c.req.valid("param").id)), 200);
  },
);

channelsApp.openapi(
  createRoute({
    method: "patch",
    path: "/channels/{id}",
    tags,
    summary: "Rename, suspend or reactivate a child channel, or set its credit limit",
    request: { params: idParam("chn"), body: jsonBody(ChannelPatch) },
    responses: { 200: json(ChannelSchema, "The channel"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "channels:write");
    const id = c.req.valid("param").id;
    const body = c.req.valid("json");
    // Renaming your own channel is fine; status and credit belong to the parent.
    const onlyName = body.status === undefined && body.credit_limit === undefined;
    if (id === ROOT_CHANNEL_ID && !onlyName && auth.root)
      throw unprocessable("root_channel", "the merchant's root channel has no status or credit limit to set");
    const row = onlyName ? await visibleChannel(c.env.DB, auth, id) : await managedChannel(c.env.DB, auth, id);
    if (body.credit_limit !== undefined)
      await channelAccount(c.env, row.id).setCreditLimit(body.credit_limit, auth.keyId);
    const updated = await updateChannel(c.env.DB, row.id, body.name ?? null, body.status ?? null);
    return c.json(channelView(updated!), 200);
  },
);
