/**
 * Verify, redeem, reverse and void for one SkuPool. Every function is synchronous
 * over the pool's SQL storage: the check and the change happen with no `await`
 * in between, which is what makes each redemption happen exactly once.
 */

import { codeTransition } from "../domain/code-state";
import { isExpired, toIso } from "../domain/validity";
import { timingSafeEqual } from "../security/primitives";
import { recordEvent } from "./outbox";
import type { CodeRow } from "./sku-pool.schema";
import { isFrozen } from "./sku-pool-refund";

const REDEEM = codeTransition("redeem");
const REVERSE = codeTransition("reverse");
const VOID = codeTransition("void");

export const MAX_PIN_FAILURES = 5;

export interface CodeQuery {
  index: string;
  /** HMAC of (index, PIN) for cards, computed by the caller. */
  pinHash?: string | null;
  now: number;
}

export type CodeRefusal =
  | "code_not_found"
  | "pin_required"
  | "card_locked"
  | "code_voided"
  | "already_redeemed"
  | "code_expired"
  | "refund_pending";

export interface CodeView {
  status: "issued" | "redeemed" | "voided" | "expired";
  last4: string;
  expires_at: string | null;
  redeemed_at: string | null;
}

type Guarded = { ok: true; row: CodeRow } | { ok: false; reason: CodeRefusal; row?: CodeRow; locked_now?: boolean };

/** Looks a code up and applies the PIN rule. A wrong PIN counts, and the fifth locks the card. */
function guard(sql: SqlStorage, source: string, q: CodeQuery): Guarded {
  const row = sql.exec<CodeRow>("SELECT * FROM codes WHERE idx = ?", q.index).toArray()[0];
  // Codes not yet sold look exactly like unknown ones.
  if (!row || row.status === "staged" || row.status === "available" || row.status === "held") {
    return { ok: false, reason: "code_not_found" };
  }
  if (row.locked) return { ok: false, reason: "card_locked", row };
  if (row.pin_hash !== null) {
    if (!q.pinHash) return { ok: false, reason: "pin_required", row };
    if (!timingSafeEqual(q.pinHash, row.pin_hash)) {
      const failures = row.pin_failures + 1;
      const lock = failures >= MAX_PIN_FAILURES ? 1 : 0;
      sql.exec("UPDATE codes SET pin_failures = ?, locked = ? WHERE id = ?", failures, lock, row.id);
      if (lock)
        recordEvent(sql, source, "code.locked", { code_id: row.id, last4: row.last4, order_id: row.order_id }, q.now);
      return lock
        ? { ok: false, reason: "card_locked", row, locked_now: true }
        : { ok: false, reason: "code_not_found", row };
    }
    if (row.pin_failures > 0) sql.exec("UPDATE codes SET pin_failures = 0 WHERE id = ?", row.id);
  }
  return { ok: true, row };
}

function view(row: CodeRow, now: number): CodeView {
  const expired = row.status === "issued" && isExpired(row.expires_at, now);
  return {
    status: expired ? "expired" : (row.status as CodeView["status"]),
    last4: row.last4,
    expires_at: toIso(row.expires_at),
    redeemed_at: toIso(row.redeemed_at),
  };
}

export type VerifyResult = { ok: true; code: CodeView } | { ok: false; reason: CodeRefusal };

export function verifyCode(sql: SqlStorage, source: string, q: CodeQuery): VerifyResult {
  const g = guard(sql, source, q);
  if (!g.ok) return { ok: false, reason: g.reason };
  return { ok: true, code: view(g.row, q.now) };
}

export interface RedeemInput extends CodeQuery {
  redemptionId: string;
  redeemer: string | null;
  channelId: string;
}

export type RedeemResult =
  | { ok: true; redemption_id: string; code: CodeView }
  | { ok: false; reason: CodeRefusal; redeemed_at?: string | null };

export function redeemCode(sql: SqlStorage, source: string, input: RedeemInput): RedeemResult {
  const g = guard(sql, source, input);
  if (!g.ok) return { ok: false, reason: g.reason };
  const row = g.row;
  if (row.status === "voided") return { ok: false, reason: "code_voided" };
  if (row.status === "redeemed") return { ok: false, reason: "already_redeemed", redeemed_at: toIso(row.redeemed_at) };
  if (isExpired(row.expires_at, input.now)) return { ok: false, reason: "code_expired" };
  // A refund of its order is deciding (freeze-then-void, sku-pool-refund.ts): not redeemable meanwhile.
  if (isFrozen(sql, row.order_id)) return { ok: false, reason: "refund_pending" };
  sql.exec(`UPDATE codes SET ${REDEEM.set}, redeemed_at = ? WHERE id = ? AND ${REDEEM.guard}`, input.now, row.id);
  sql.exec(
    "INSERT INTO redemptions (id, code_id, redeemer, channel_id, redeemed_at) VALUES (?, ?, ?, ?, ?)",
    input.redemptionId,
    row.id,
    input.redeemer,
    input.channelId,
    input.now,
  );
  recordEvent(
    sql,
    source,
    "code.redeemed",
    {
      redemption_id: input.redemptionId,
      code_index: row.idx,
      last4: row.last4,
      order_id: row.order_id,
      channel_id: input.channelId,
      // The channel the code was sold to: the cockpit counts a redemption there (queues/rollups.ts).
      sold_channel_id: row.channel_id ?? null,
      redeemer: input.redeemer,
      redeemed_at: toIso(input.now),
    },
    input.now,
  );
  return {
    ok: true,
    redemption_id: input.redemptionId,
    code: view({ ...row, status: "redeemed", redeemed_at: input.now }, input.now),
  };
}

export type ReverseResult =
  | { ok: true; redemption_id: string; reversed_at: string }
  | { ok: false; reason: "redemption_not_found" | "already_reversed" | "reversal_window_passed" | "code_not_redeemed" };

export function reverseRedemption(
  sql: SqlStorage,
  source: string,
  redemptionId: string,
  windowMs: number,
  now: number,
): ReverseResult {
  const r = sql
    .exec<{
      code_id: number;
      redeemed_at: number;
      reversed_at: number | null;
      idx: string;
      status: string;
      last4: string;
      order_id: string | null;
      channel_id: string | null;
    }>(
      `SELECT r.code_id, r.redeemed_at, r.reversed_at, c.idx, c.status, c.last4, c.order_id, c.channel_id FROM redemptions r
        JOIN codes c ON c.id = r.code_id WHERE r.id = ?`,
      redemptionId,
    )
    .toArray()[0];
  if (!r) return { ok: false, reason: "redemption_not_found" };
  if (r.reversed_at !== null) return { ok: false, reason: "already_reversed" };
  if (now - r.redeemed_at > windowMs) return { ok: false, reason: "reversal_window_passed" };
  if (r.status !== "redeemed") return { ok: false, reason: "code_not_redeemed" };
  sql.exec(`UPDATE codes SET ${REVERSE.set}, redeemed_at = NULL WHERE id = ? AND ${REVERSE.guard}`, r.code_id);
  sql.exec("UPDATE redemptions SET reversed_at = ? WHERE id = ?", now, redemptionId);
  recordEvent(
    sql,
    source,
    "code.redemption_reversed",
    {
      redemption_id: redemptionId,
      code_index: r.idx,
      last4: r.last4,
      order_id: r.order_id,
      sold_channel_id: r.channel_id,
      reversed_at: toIso(now),
    },
    now,
  );
  return { ok: true, redemption_id: redemptionId, reversed_at: toIso(now)! };
}

export type VoidResult =
  | { ok: true; last4: string }
  | { ok: false; reason: "code_not_found" | "already_redeemed" | "code_voided" };

/** Voids a code that has not been redeemed; held and issued codes can be voided (e.g. leaked). */
export function voidCode(sql: SqlStorage, source: string, index: string, reason: string, now: number): VoidResult {
  const row = sql.exec<CodeRow>("SELECT * FROM codes WHERE idx = ? AND status != 'staged'", index).toArray()[0];
  if (!row) return { ok: false, reason: "code_not_found" };
  if (row.status === "redeemed") return { ok: false, reason: "already_redeemed" };
  if (row.status === "voided") return { ok: false, reason: "code_voided" };
  sql.exec(`UPDATE codes SET ${VOID.set}, voided_at = ? WHERE id = ? AND ${VOID.guard}`, now, row.id);
  recordEvent(
    sql,
    source,
    "code.voided",
    { code_index: row.idx, last4: row.last4, order_id: row.order_id, reason },
    now,
  );
  return { ok: true, last4: row.last4 };
}
