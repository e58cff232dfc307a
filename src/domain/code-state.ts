/**
 * The code state machine: available → held → issued → redeemed, plus voided.
 * `staged` codes belong to a batch that is still loading and are invisible.
 * Every status change in the SkuPool goes through `codeTransition(action)`: its SQL SET and WHERE
 * fragments are built from this table, so the stored transitions cannot drift from the model the
 * tests check. A refund never needs to undo a void: it freezes first (objects/sku-pool-refund.ts).
 */
export type CodeStatus = "staged" | "available" | "held" | "issued" | "redeemed" | "voided";

export type CodeAction =
  | "publish"
  | "hold"
  | "release"
  | "confirm"
  | "issue"
  | "redeem"
  | "reverse"
  | "void"
  | "return";

const TRANSITIONS: Record<CodeAction, Partial<Record<CodeStatus, CodeStatus>>> = {
  publish: { staged: "available" },
  hold: { available: "held" },
  release: { held: "available" },
  confirm: { held: "issued" },
  issue: { available: "issued" },
  redeem: { issued: "redeemed" },
  reverse: { redeemed: "issued" },
  void: { available: "voided", held: "voided", issued: "voided" },
  return: { issued: "available" },
};

/** The next status, or null when the action is not allowed from `from`. */
export function nextStatus(from: CodeStatus, action: CodeAction): CodeStatus | null {
  return TRANSITIONS[action][from] ?? null;
}

/** Statuses an action may start from, for SQL `status IN (...)` guards. */
export function sourcesOf(action: CodeAction): CodeStatus[] {
  return Object.keys(TRANSITIONS[action]) as CodeStatus[];
}

/** The one status an action leads to (every action has exactly one target). */
export function targetOf(action: CodeAction): CodeStatus {
  const targets = [...new Set(Object.values(TRANSITIONS[action]))];
  if (targets.length !== 1) throw new Error(`action ${action} must have one target status`);
  return targets[0] as CodeStatus;
}

/**
 * SQL fragments of a transition for `UPDATE codes SET ${set}, … WHERE … AND ${guard}`:
 * `set` is `status = '<target>'`, `guard` is `status IN ('<source>', …)`.
 */
export function codeTransition(action: CodeAction): { set: string; guard: string } {
  const sources = sourcesOf(action).map((s) => `'${s}'`);
  return { set: `status = '${targetOf(action)}'`, guard: `status IN (${sources.join(", ")})` };
}
