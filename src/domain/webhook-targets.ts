/**
 * Which events a webhook subscription receives (pure): the catalogue of deliverable types,
 * event filters (`order.paid`, `order.*`, `*`), the channel an event belongs to, and the body
 * that is sent. Events never carry codes; internal fields (blind indexes) are dropped too.
 */
import { inSubtree } from "./channels";
import { ROOT_CHANNEL_ID } from "./ids";

export const EVENT_CATALOGUE = [
  "order.pending_payment",
  "order.processing",
  "order.paid",
  "order.fulfilled",
  "order.failed",
  "order.cancelled",
  "order.refunded",
  "code.issued",
  "code.redeemed",
  "code.redemption_reversed",
  "code.voided",
  "stock.low",
  "stock.refilled",
  "balance.topped_up",
  "settlement.posted",
  "reconciliation.mismatch",
  "campaign.claimed",
  "webhook.ping",
] as const;
export type WebhookEventType = (typeof EVENT_CATALOGUE)[number];
const CATALOGUE = new Set<string>(EVENT_CATALOGUE);
const FAMILIES = new Set(EVENT_CATALOGUE.map((t) => t.split(".")[0]));

export const isDeliverable = (type: string) => CATALOGUE.has(type) && type !== "webhook.ping";

/** A filter is `*`, `<family>.*` or an exact catalogue type; anything else is refused at subscription time. */
export function invalidFilters(filters: readonly string[]): string[] {
  return filters.filter((f) => !(f === "*" || (f.endsWith(".*") && FAMILIES.has(f.slice(0, -2))) || CATALOGUE.has(f)));
}

/** Whether one of `filters` selects `type`. `webhook.ping` is sent only on request, whatever the filters. */
export function matchesFilters(filters: readonly string[], type: string): boolean {
  if (!CATALOGUE.has(type)) return false;
  if (type === "webhook.ping") return true;
  const family = type.slice(0, type.indexOf("."));
  return filters.some((f) => f === "*" || f === type || f === `${family}.*`);
}

interface EventLike {
  id: string;
  type: string;
  created_at: string;
  source: string;
  seq: number;
  data: Record<string, unknown>;
}

const str = (v: unknown) => (typeof v === "string" && /^chn_[a-z0-9_]{1,60}$/.test(v) ? v : null);

/** The channel an event belongs to: the order's channel for order.*, else data.channel_id; none → the root. */
export function eventChannel(event: Pick<EventLike, "type" | "data">): string {
  const data = event.data ?? {};
  if (event.type.startsWith("order.")) {
    const order = data.order as Record<string, unknown> | undefined;
    return str(order?.channel_id) ?? str(data.channel_id) ?? ROOT_CHANNEL_ID;
  }
  return str(data.channel_id) ?? ROOT_CHANNEL_ID;
}

export interface SubscriptionTarget {
  id: string;
  /** Materialised path of the subscription's channel. */
  path: string;
  events: readonly string[];
}

/**
 * The subscriptions that receive an event: the filter matches and the event's channel lies in
 * the subscription channel's subtree (a channel hears about itself and everything below it).
 */
export function targetsFor(
  event: Pick<EventLike, "type" | "data">,
  eventChannelPath: string | null,
  subs: readonly SubscriptionTarget[],
): string[] {
  if (!isDeliverable(event.type) || eventChannelPath === null) return [];
  return subs
    .filter((s) => inSubtree(eventChannelPath, s.path) && matchesFilters(s.events, event.type))
    .map((s) => s.id);
}

const INTERNAL_KEYS = new Set(["code_index", "code_indexes", "blind_index", "hash", "ciphertext"]);

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!INTERNAL_KEYS.has(k)) out[k] = scrub(v, depth + 1);
  return out;
}

/** The JSON body a receiver gets; `sequence` rises per `resource`, so receivers can drop stale events. */
export function deliveryBody(event: EventLike): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    created_at: event.created_at,
    resource: event.source,
    sequence: event.seq,
    data: scrub(event.data),
  });
}

/**
 * What a subscriber below the root may see of a `settlement.posted`: the shares of its own subtree
 * (never an ancestor's commission), and not the merchant's remainder.
 */
export function settlementFor(event: EventLike, visibleChannels: ReadonlySet<string>, root: boolean): EventLike {
  if (event.type !== "settlement.posted" || root) return event;
  const {
    merchant_amount: _merchant,
    shares,
    ...rest
  } = event.data as { merchant_amount?: unknown; shares?: { channel_id: string }[] };
  return { ...event, data: { ...rest, shares: (shares ?? []).filter((s) => visibleChannels.has(s.channel_id)) } };
}
