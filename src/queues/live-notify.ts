/**
 * After the events consumer committed a batch: tell the LiveHub which channels' numbers changed, so open
 * cockpits re-read within a moment. Best effort by design: a lost notice costs a console one refresh (it
 * also re-reads on a timer), never a number, so a failure here must not fail or retry the batch.
 */
import { channelPaths } from "../db/channels";
import { liveHub } from "../objects/live-hub";
import type { DomainEvent } from "../objects/outbox";

// biome-ignore lint/suspicious/noExplicitAny: untyped JSON from our own outboxes, read field by field
type Data = Record<string, any>;

function touched(e: DomainEvent): { channelId: string; topic: string } | null {
  const d = (e.data ?? {}) as Data;
  if (e.type.startsWith("order.") && typeof d.order?.channel_id === "string")
    return { channelId: d.order.channel_id, topic: "orders" };
  if (e.type === "code.redeemed" || e.type === "code.redemption_reversed") {
    const id = d.sold_channel_id ?? d.channel_id;
    return typeof id === "string" ? { channelId: id, topic: "redemptions" } : null;
  }
  if (e.type.startsWith("stock.") && typeof d.channel_id === "string")
    return { channelId: d.channel_id, topic: "stock" };
  return null;
}

export async function notifyLive(env: Env, events: DomainEvent[]): Promise<void> {
  const hits = events.map(touched).filter((t) => t !== null);
  if (hits.length === 0) return;
  try {
    const paths = await channelPaths(env.DB, [...new Set(hits.map((h) => h.channelId))]);
    await liveHub(env).notify({ paths: [...paths.values()], topics: [...new Set(hits.map((h) => h.topic))] });
  } catch (err) {
    console.warn(
      JSON.stringify({
        level: "warn",
        at: "live-notify",
        error: err instanceof Error ? err.message.slice(0, 200) : "?",
      }),
    );
  }
}
