/**
 * Channel names for the ids that lists carry (orders, redemptions, quotas, payouts): the signed-in node's
 * subtree, read once per session from GET /v1/channels (at most 1,000) and shared by every page. An id the
 * subtree does not hold stays an id, which cannot reveal anything the API did not already answer.
 */
import { useEffect, useState } from "preact/hooks";
import { api, must } from "./api";

let names: Promise<Map<string, string>> | null = null;

async function load(): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  let cursor: string | undefined;
  for (let i = 0; i < 10; i++) {
    const page = await must(api.GET("/v1/channels", { params: { query: { limit: 100, cursor } } }));
    for (const c of page.data) map.set(c.id, c.name);
    if (!page.has_more || !page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return map;
}

/** Forget the cache (after sign-out, or after a channel was created or renamed). */
export const forgetChannelNames = () => {
  names = null;
};

/** The subtree's channels as [id, name] pairs, for pickers. */
export function useChannelList(): [string, string][] {
  const [map, setMap] = useState<Map<string, string> | null>(null);
  useEffect(() => {
    names ??= load().catch(() => new Map());
    void names.then(setMap);
  }, []);
  return map ? [...map.entries()] : [];
}

export function useChannelNames(): (id: string) => string {
  const [map, setMap] = useState<Map<string, string> | null>(null);
  useEffect(() => {
    names ??= load().catch(() => new Map());
    void names.then(setMap);
  }, []);
  return (id) => map?.get(id) ?? id;
}
