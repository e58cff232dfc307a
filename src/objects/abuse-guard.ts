/**
 * AbuseGuard: exact failure budgets for code guessing. One object per client network
 * (`net:<network>`, counting the network and each address in it) or per API key
 * (`key:<id>`). Past its budget inside the window a subject is locked for a cool-down;
 * each lock is an event. The edge rate limiter is approximate; this is the exact count.
 *
 * Tables:
 *   failures  (subject, at)          failed guesses, pruned past the longest window
 *   locks     subject → until         active cool-downs
 *   counters  (subject, window_start) → count   exact per-key request and reveal limits
 *   nonces    nonce → until           signed-request nonces, refused when seen again
 *   outbox                            see objects/outbox.ts
 */
import { DurableObject } from "cloudflare:workers";
import type { Budget } from "../domain/networks";
import { flushOutbox, OUTBOX_SCHEMA, pendingEvents, recordEvent } from "./outbox";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS failures (subject TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS failures_subject ON failures (subject, at);
CREATE TABLE IF NOT EXISTS locks (subject TEXT PRIMARY KEY, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
  subject TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (subject, window_start)
);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, until INTEGER NOT NULL);
${OUTBOX_SCHEMA}
`;

export interface Subject {
  /** e.g. "ip:203.0.113.7", "net:203.0.113.0/24", "key:key_…" */
  id: string;
  budget: Budget;
}

export type LockState = { locked: false } | { locked: true; subject: string; until: number };

export function abuseGuard(env: Env, name: string): DurableObjectStub<AbuseGuard> {
  return env.ABUSE_GUARD.get(env.ABUSE_GUARD.idFromName(name));
}

export class AbuseGuard extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Whether any of these subjects is locked now. */
  check(subjects: string[], now = Date.now()): LockState {
    for (const subject of subjects) {
      const lock = this.sql
        .exec<{ until: number }>("SELECT until FROM locks WHERE subject = ? AND until > ?", subject, now)
        .toArray()[0];
      if (lock) return { locked: true, subject, until: lock.until };
    }
    return { locked: false };
  }

  /** Counts one failed guess against every subject; locks those past their budget. Returns the resulting state. */
  fail(subjects: Subject[], now = Date.now()): LockState {
    let state: LockState = { locked: false };
    for (const s of subjects) {
      this.sql.exec("INSERT INTO failures (subject, at) VALUES (?, ?)", s.id, now);
      const n = this.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM failures WHERE subject = ? AND at > ?",
          s.id,
          now - s.budget.windowMs,
        )
        .one().n;
      const locked = this.sql
        .exec<{ until: number }>("SELECT until FROM locks WHERE subject = ? AND until > ?", s.id, now)
        .toArray()[0];
      if (!locked && n >= s.budget.failures) {
        const until = now + s.budget.lockMs;
        this.sql.exec("INSERT OR REPLACE INTO locks (subject, until) VALUES (?, ?)", s.id, until);
        recordEvent(
          this.sql,
          `guard:${s.id}`,
          "security.locked",
          {
            subject: s.id,
            failures: n,
            window_seconds: s.budget.windowMs / 1000,
            until: new Date(until).toISOString(),
          },
          now,
        );
        void this.ctx.storage.setAlarm(now);
      }
      const lock =
        locked?.until ??
        this.sql
          .exec<{ until: number }>("SELECT until FROM locks WHERE subject = ? AND until > ?", s.id, now)
          .toArray()[0]?.until;
      if (lock && !state.locked) state = { locked: true, subject: s.id, until: lock };
    }
    // Keep the tables small: a day of history is more than any window.
    this.sql.exec("DELETE FROM failures WHERE at < ?", now - 86_400_000);
    this.sql.exec("DELETE FROM locks WHERE until < ?", now);
    return state;
  }

  /** Takes one from a fixed-window budget (`limit` per `windowMs`); refuses with the time until the window ends. */
  take(
    subject: string,
    limit: number,
    windowMs: number,
    now = Date.now(),
  ): { ok: true } | { ok: false; retryAfterMs: number } {
    const start = now - (now % windowMs);
    const used =
      this.sql
        .exec<{ count: number }>("SELECT count FROM counters WHERE subject = ? AND window_start = ?", subject, start)
        .toArray()[0]?.count ?? 0;
    if (used >= limit) return { ok: false, retryAfterMs: start + windowMs - now };
    this.sql.exec(
      `INSERT INTO counters (subject, window_start, count) VALUES (?, ?, 1)
        ON CONFLICT (subject, window_start) DO UPDATE SET count = count + 1`,
      subject,
      start,
    );
    this.sql.exec("DELETE FROM counters WHERE window_start < ?", now - 86_400_000);
    return { ok: true };
  }

  /** Records a nonce until `until`; false when it was already used (a replay). */
  useNonce(nonce: string, until: number, now = Date.now()): boolean {
    this.sql.exec("DELETE FROM nonces WHERE until < ?", now);
    if (this.sql.exec("SELECT 1 FROM nonces WHERE nonce = ?", nonce).toArray().length > 0) return false;
    this.sql.exec("INSERT INTO nonces (nonce, until) VALUES (?, ?)", nonce, until);
    return true;
  }

  async alarm(): Promise<void> {
    await flushOutbox(this.sql, this.env.EVENTS);
    if (pendingEvents(this.sql) > 0) await this.ctx.storage.setAlarm(Date.now() + 1_000);
  }
}
