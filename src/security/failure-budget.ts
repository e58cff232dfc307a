/**
 * Failure budgets around verify and redeem. Only guesses count (unknown code, wrong check
 * characters, wrong PIN). Keyed calls are budgeted per API key, so a partner's busy server
 * neither locks itself out by IP nor is locked by its neighbours; public calls per IP and
 * per network (/24, /64). A lock seen once is remembered in the isolate until it ends, so a
 * flood from a locked client is refused without touching any storage.
 */
import { type Budget, networkOf, parseBudget } from "../domain/networks";
import { ApiError } from "../lib/errors";
import { abuseGuard, type Subject } from "../objects/abuse-guard";
import type { Auth } from "./auth";

const DEFAULTS = {
  ip: { failures: 20, windowMs: 600_000, lockMs: 900_000 },
  network: { failures: 200, windowMs: 600_000, lockMs: 900_000 },
  key: { failures: 1000, windowMs: 600_000, lockMs: 300_000 },
} satisfies Record<string, Budget>;

export interface GuardPlan {
  guard: string;
  subjects: Subject[];
}

function budgets(env: Env) {
  const vars = env as unknown as Record<string, string | undefined>;
  return {
    ip: parseBudget(vars.FAILURE_BUDGET_IP, DEFAULTS.ip),
    network: parseBudget(vars.FAILURE_BUDGET_NETWORK, DEFAULTS.network),
    key: parseBudget(vars.FAILURE_BUDGET_KEY, DEFAULTS.key),
  };
}

/** Who a failure counts against; null for the owner's bootstrap token, which is not budgeted. */
export function guardPlan(env: Env, auth: Auth | null, ip: string): GuardPlan | null {
  const b = budgets(env);
  if (auth?.keyId === "admin_token") return null;
  if (auth) return { guard: `key:${auth.keyId}`, subjects: [{ id: `key:${auth.keyId}`, budget: b.key }] };
  const network = networkOf(ip);
  return {
    guard: `net:${network}`,
    subjects: [
      { id: `ip:${ip}`, budget: b.ip },
      { id: `net:${network}`, budget: b.network },
    ],
  };
}

const knownLocks = new Map<string, number>();

function refuse(until: number, now: number): ApiError {
  const seconds = Math.max(1, Math.ceil((until - now) / 1000));
  return new ApiError(
    429,
    "too_many_failures",
    "too many failed attempts; try again later",
    { retry_after_seconds: seconds },
    { "Retry-After": String(seconds) },
  );
}

/** Throws 429 too_many_failures when any subject is locked. */
export async function assertNotLocked(env: Env, plan: GuardPlan | null, now = Date.now()): Promise<void> {
  if (!plan) return;
  for (const s of plan.subjects) {
    const until = knownLocks.get(s.id);
    if (until && until > now) throw refuse(until, now);
  }
  const state = await abuseGuard(env, plan.guard).check(
    plan.subjects.map((s) => s.id),
    now,
  );
  if (state.locked) {
    knownLocks.set(state.subject, state.until);
    throw refuse(state.until, now);
  }
}

/** Counts a failed guess; remembers a lock it causes. */
export async function countFailure(env: Env, plan: GuardPlan | null, now = Date.now()): Promise<void> {
  if (!plan) return;
  const state = await abuseGuard(env, plan.guard).fail(plan.subjects, now);
  if (state.locked) knownLocks.set(state.subject, state.until);
}

/** For tests: forget locks cached in this isolate. */
export function forgetLocks(): void {
  knownLocks.clear();
}
