/** Validity of issued codes: absolute window, or a number of days after issue. Pure. */

export type Validity =
  | { type: "none" }
  | { type: "absolute"; starts_at?: string | null; ends_at?: string | null }
  | { type: "relative"; days: number };

const DAY_MS = 86_400_000;

/** When a code issued at `issuedAt` (ms) expires, in ms, or null for never. */
export function expiryFor(validity: Validity, issuedAt: number): number | null {
  if (validity.type === "relative") return issuedAt + validity.days * DAY_MS;
  if (validity.type === "absolute" && validity.ends_at) return Date.parse(validity.ends_at);
  return null;
}

/** Whether the product may still be sold at `now`: an absolute window that has ended may not. */
export function saleState(validity: Validity, now: number): "ok" | "not_started" | "ended" {
  if (validity.type !== "absolute") return "ok";
  if (validity.ends_at && Date.parse(validity.ends_at) <= now) return "ended";
  if (validity.starts_at && Date.parse(validity.starts_at) > now) return "not_started";
  return "ok";
}

/** Whether a code with this expiry (ms or null) may be redeemed at `now`. */
export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}

export function toIso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
