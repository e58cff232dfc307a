/** Reading the events that move money, for the ledger poster: untyped JSON payloads checked field by field. */
import type { DomainEvent } from "../objects/outbox";

// Event payloads are JSON read field by field through the isStr/isNum guards below.
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON, checked at each use
export type Data = Record<string, any>;
export const isNum = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
export const isStr = (v: unknown): v is string => typeof v === "string" && v.length > 0;
export const eventTime = (e: DomainEvent) => Date.parse(e.created_at) || Date.now();

/** Events that move money, with what they need; anything else (or malformed) yields nothing here. */
export function paid(e: DomainEvent) {
  const d = e.data as Data;
  const o = d?.order,
    p = d?.payment;
  if (e.type !== "order.paid" || !isStr(o?.id) || !isStr(o?.channel_id) || !Array.isArray(o?.items) || !p) return null;
  if (p.method !== "balance" && p.method !== "gateway") return null; // method none: root orders move no money
  return { order: o, payment: p };
}

export function refunded(e: DomainEvent) {
  const d = e.data as Data;
  const o = d?.order,
    r = d?.refund;
  if (
    e.type !== "order.refunded" ||
    !isStr(o?.id) ||
    !isStr(o?.channel_id) ||
    !r ||
    !isStr(r.id) ||
    !isNum(r.amount) ||
    !isStr(r.currency)
  )
    return null;
  return { order: o, refund: r };
}
