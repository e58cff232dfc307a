/**
 * How a cockpit period is read from the roll-ups (pure): whole business days from the daily table, the
 * partial days at either end from the hourly one, so a query costs days + 48 hours of rows at most, and the
 * sum is exact for any period on hour boundaries. The business day starts at local midnight of the
 * merchant's timezone (ANALYTICS_TZ_OFFSET_MINUTES, no daylight saving: China, for one, has none).
 */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The start of the business day holding `ms`. */
export const businessDay = (ms: number, offsetMs: number) => Math.floor((ms + offsetMs) / DAY_MS) * DAY_MS - offsetMs;

export interface RangeSplit {
  /** [from, to) ranges read hour by hour (zero, one or two of them). */
  hours: [number, number][];
  /** [from, to) of whole business days, or null when the period holds none. */
  days: [number, number] | null;
}

export function splitRange(from: number, to: number, offsetMs: number): RangeSplit {
  const d0 = Math.ceil((from + offsetMs) / DAY_MS) * DAY_MS - offsetMs;
  const d1 = Math.floor((to + offsetMs) / DAY_MS) * DAY_MS - offsetMs;
  if (d1 <= d0) return { hours: [[from, to]], days: null };
  const hours = (
    [
      [from, d0],
      [d1, to],
    ] as [number, number][]
  ).filter(([a, b]) => b > a);
  return { hours, days: [d0, d1] };
}

/** Parses ANALYTICS_TZ_OFFSET_MINUTES (whole minutes, −14 h … +14 h); 480 (UTC+8) when unset or malformed. */
export function businessOffsetMs(raw: string | undefined): number {
  const n = Number(raw);
  return Number.isInteger(n) && Math.abs(n) <= 840 && raw !== undefined && raw.trim() !== ""
    ? n * 60_000
    : 480 * 60_000;
}
