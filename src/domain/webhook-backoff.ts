/**
 * Retry schedule of webhook deliveries (pure). The first attempt runs at once; after each
 * failure the queue redelivers after the delay below, ±20 % jitter so receivers that come back
 * up are not hit by every sender at the same second. 1 + 12 attempts span about 24 hours, then the
 * message goes to the dead-letter queue (wrangler.toml: max_retries = 12).
 * `scale` (WEBHOOK_BACKOFF_SCALE) shrinks every delay, e.g. 0.00004 in tests (≈ 0–1 s).
 */
export const RETRY_DELAYS_S = [10, 30, 120, 300, 900, 1800, 3600, 7200, 10_800, 14_400, 21_600, 25_200] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_S.length + 1;
/** Cloudflare Queues accept at most 12 hours of delay per retry. */
export const MAX_DELAY_S = 43_200;
export const JITTER = 0.2;

/**
 * Seconds to wait before the next attempt after `failedAttempts` failures (1-based), or null when
 * no attempt is left. `random` in [0, 1) picks the jitter.
 */
export function retryDelaySeconds(failedAttempts: number, scale = 1, random = 0.5): number | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1 || failedAttempts > RETRY_DELAYS_S.length) return null;
  const base = RETRY_DELAYS_S[failedAttempts - 1];
  const factor = 1 + JITTER * (2 * Math.min(Math.max(random, 0), 1) - 1);
  const s = Number.isFinite(scale) && scale >= 0 ? scale : 1;
  return Math.min(MAX_DELAY_S, Math.max(0, Math.round(base * factor * s)));
}

/** Parses the WEBHOOK_BACKOFF_SCALE var: a non-negative number, default 1. */
export function backoffScale(raw: unknown): number {
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 10 ? n : 1;
}
