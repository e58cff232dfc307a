/**
 * The code state machine: available → held → issued → redeemed, plus voided.
 * `staged` codes belong to a batch that is still loading and are invisible.
 * SkuPool uses these transitions in its SQL WHERE clauses; tests check them as a model.
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
