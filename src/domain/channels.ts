/** The channel tree: types, depth, subtree tests on materialised paths. Pure. */
import { ROOT_CHANNEL_ID } from "./ids";

export const CHANNEL_TYPES = ["own_store", "marketplace", "partner", "agent", "store", "enterprise"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Levels below the root: brand → national → provincial → city → store. */
export const MAX_DEPTH = 5;
export const ROOT_PATH = `/${ROOT_CHANNEL_ID}/`;

export function childPath(parentPath: string, childId: string): string {
  return `${parentPath}${childId}/`;
}

/** Whether `path` lies in the subtree rooted at `ancestorPath` (a channel is in its own subtree). */
export function inSubtree(path: string, ancestorPath: string): boolean {
  return path.startsWith(ancestorPath);
}

/** Channel ids from the root down to the channel itself. */
export function pathIds(path: string): string[] {
  return path.split("/").filter(Boolean);
}

export function depthOf(path: string): number {
  return pathIds(path).length - 1;
}

export function parentOf(path: string): string | null {
  const ids = pathIds(path);
  return ids.length > 1 ? ids[ids.length - 2] : null;
}
