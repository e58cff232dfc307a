/**
 * Cloudflare Turnstile for claims made from a consumer's browser: where TURNSTILE_SECRET is set, the widget's
 * token is checked at siteverify (form-encoded `secret`, `response`, `remoteip`, `idempotency_key`; the answer
 * `{"success", "error-codes", "challenge_ts", "hostname", …}`). A token is single-use at Cloudflare, so a replayed
 * token fails there. TURNSTILE_VERIFY_URL points the tests at a local fake that speaks the same protocol.
 */
import { ApiError } from "./errors";

const SITEVERIFY = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

type Vars = { TURNSTILE_SECRET?: string; TURNSTILE_VERIFY_URL?: string };

export const turnstileRequired = (env: Env) => !!(env as unknown as Vars).TURNSTILE_SECRET;

/** Throws 403 turnstile_failed for a missing or refused token, 503 when siteverify cannot be reached. */
export async function assertHuman(env: Env, token: string | undefined, ip: string): Promise<void> {
  const vars = env as unknown as Vars;
  if (!vars.TURNSTILE_SECRET) return;
  if (!token) throw new ApiError(403, "turnstile_failed", "send the Turnstile token of the page as turnstile_token");
  const form = new URLSearchParams({
    secret: vars.TURNSTILE_SECRET,
    response: token,
    remoteip: ip,
    idempotency_key: crypto.randomUUID(),
  });
  let answer: { success?: unknown; "error-codes"?: unknown };
  try {
    const res = await fetch(vars.TURNSTILE_VERIFY_URL || SITEVERIFY, {
      method: "POST",
      body: form,
      signal: AbortSignal.timeout(5000),
    });
    answer = (await res.json()) as typeof answer;
  } catch {
    throw new ApiError(503, "turnstile_unavailable", "the human check could not be reached; try again", undefined, {
      "Retry-After": "5",
    });
  }
  if (answer.success !== true) {
    const codes = Array.isArray(answer["error-codes"]) ? answer["error-codes"].slice(0, 5).map(String) : [];
    throw new ApiError(403, "turnstile_failed", "the human check failed; reload the page and try again", {
      turnstile_errors: codes,
    });
  }
}
