/**
 * Who may see and manage which channel. A key sees its channel's subtree; an id outside it
 * answers 404 exactly like an unknown id, so ids cannot be probed across subtrees.
 */
import { type ChannelRow, channelInScope } from "../db/channels";
import type { Auth } from "../security/auth";
import { ApiError, notFound } from "./errors";

/** The channel, if the caller's subtree holds it. */
export async function visibleChannel(db: D1Database, auth: Auth, id: string): Promise<ChannelRow> {
  const row = await channelInScope(db, id, auth.path);
  if (!row) throw notFound("channel");
  return row;
}

/** The channel, if it lies strictly below the caller: only ancestors manage a channel's prices, quotas, money and status. */
export async function managedChannel(db: D1Database, auth: Auth, id: string): Promise<ChannelRow> {
  const row = await visibleChannel(db, auth, id);
  if (row.id === auth.channelId)
    throw new ApiError(403, "forbidden", "a channel's prices, quotas, balance and status are managed by its parent");
  return row;
}
