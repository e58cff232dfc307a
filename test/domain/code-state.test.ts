/**
 * The code state machine as a model: transitions, reachability, terminal states, and a
 * model-based run (fast-check commands) checking that a code is redeemed at most once
 * between reversals whatever sequence of actions arrives.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CodeAction,
  type CodeStatus,
  codeTransition,
  nextStatus,
  sourcesOf,
  targetOf,
} from "../../src/domain/code-state";

const STATUSES: CodeStatus[] = ["staged", "available", "held", "issued", "redeemed", "voided"];
const ACTIONS: CodeAction[] = ["publish", "hold", "release", "confirm", "issue", "redeem", "reverse", "void", "return"];
const status = fc.constantFrom(...STATUSES);
const action = fc.constantFrom(...ACTIONS);

/** Replays actions from `start`; a refused action leaves the status unchanged. */
function run(start: CodeStatus, actions: CodeAction[]) {
  let s = start;
  const trace: { from: CodeStatus; action: CodeAction; to: CodeStatus | null }[] = [];
  for (const a of actions) {
    const to = nextStatus(s, a);
    trace.push({ from: s, action: a, to });
    if (to !== null) s = to;
  }
  return { final: s, trace };
}

describe("code state machine", () => {
  it("every (status, action) pair answers a known status or null, never undefined", () => {
    for (const s of STATUSES) {
      for (const a of ACTIONS) {
        const to = nextStatus(s, a);
        expect(to === null || STATUSES.includes(to), `${s} --${a}-->`).toBe(true);
      }
    }
  });

  it("random action sequences never reach an undefined state", () => {
    fc.assert(
      fc.property(status, fc.array(action, { maxLength: 60 }), (start, actions) => {
        const { final, trace } = run(start, actions);
        expect(STATUSES).toContain(final);
        for (const step of trace) expect(step.to === null || STATUSES.includes(step.to)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("a code is redeemed only from issued, and only by redeem", () => {
    fc.assert(
      fc.property(status, action, (s, a) => {
        if (nextStatus(s, a) === "redeemed") expect([s, a]).toEqual(["issued", "redeem"]);
        if (a === "redeem" && nextStatus(s, a) !== null) expect(s).toBe("issued");
      }),
      { numRuns: 200 },
    );
    expect(sourcesOf("redeem")).toEqual(["issued"]);
  });

  it("voided is terminal", () => {
    for (const a of ACTIONS) expect(nextStatus("voided", a), a).toBeNull();
    fc.assert(
      fc.property(
        fc.array(action, { maxLength: 40 }),
        (actions) => void expect(run("voided", actions).final).toBe("voided"),
      ),
      { numRuns: 200 },
    );
  });

  it("a redeemed code cannot be voided, returned or redeemed again; only reverse leaves redeemed", () => {
    for (const a of ACTIONS) expect(nextStatus("redeemed", a), a).toBe(a === "reverse" ? "issued" : null);
  });

  it("staged codes are invisible: only publish leaves staged, and nothing goes back to staged", () => {
    for (const a of ACTIONS) expect(nextStatus("staged", a), a).toBe(a === "publish" ? "available" : null);
    for (const s of STATUSES) for (const a of ACTIONS) expect(nextStatus(s, a)).not.toBe("staged");
  });

  it("sourcesOf lists exactly the statuses an action may start from (the SQL guards)", () => {
    for (const a of ACTIONS) {
      const expected = STATUSES.filter((s) => nextStatus(s, a) !== null);
      expect(new Set(sourcesOf(a)), a).toEqual(new Set(expected));
      for (const s of sourcesOf(a)) expect(STATUSES).toContain(s);
    }
  });

  it("every status is reachable from staged", () => {
    const seen = new Set<CodeStatus>(["staged"]);
    const queue: CodeStatus[] = ["staged"];
    while (queue.length) {
      const s = queue.shift()!;
      for (const a of ACTIONS) {
        const to = nextStatus(s, a);
        if (to && !seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    expect(seen).toEqual(new Set(STATUSES));
  });

  it("the sale path is the documented one: available → held → issued → redeemed", () => {
    expect(run("staged", ["publish", "hold", "confirm", "redeem"]).final).toBe("redeemed");
    expect(run("staged", ["publish", "issue", "redeem", "reverse"]).final).toBe("issued");
    expect(run("staged", ["publish", "hold", "release"]).final).toBe("available");
    expect(run("staged", ["publish", "issue", "return"]).final).toBe("available");
  });
});

// ---------------------------------------------------------------- model-based run

/** The system under test: one code driven through nextStatus, as a SkuPool would. */
class Code {
  status: CodeStatus = "staged";
  apply(a: CodeAction): boolean {
    const to = nextStatus(this.status, a);
    if (to === null) return false;
    this.status = to;
    return true;
  }
}

/**
 * The model, written independently of the table: the business rules as sentences.
 * `redeemsSinceReverse` is the invariant under test.
 */
interface Model {
  status: CodeStatus;
  redeemsSinceReverse: number;
  redeemsTotal: number;
  reversesTotal: number;
}

const SPEC: Record<CodeAction, (m: Model) => CodeStatus | null> = {
  publish: (m) => (m.status === "staged" ? "available" : null),
  hold: (m) => (m.status === "available" ? "held" : null),
  release: (m) => (m.status === "held" ? "available" : null),
  confirm: (m) => (m.status === "held" ? "issued" : null),
  issue: (m) => (m.status === "available" ? "issued" : null),
  redeem: (m) => (m.status === "issued" ? "redeemed" : null),
  reverse: (m) => (m.status === "redeemed" ? "issued" : null),
  void: (m) => (["available", "held", "issued"].includes(m.status) ? "voided" : null),
  return: (m) => (m.status === "issued" ? "available" : null),
};

class ActionCommand implements fc.Command<Model, Code> {
  constructor(readonly action: CodeAction) {}
  check = () => true;
  run(m: Model, real: Code): void {
    const expected = SPEC[this.action](m);
    const ok = real.apply(this.action);
    expect(ok, `${m.status} --${this.action}--> ${expected}`).toBe(expected !== null);
    if (expected !== null) m.status = expected;
    expect(real.status).toBe(m.status);
    if (ok && this.action === "redeem") {
      expect(m.redeemsSinceReverse, "a second redeem succeeded without a reverse in between").toBe(0);
      m.redeemsSinceReverse++;
      m.redeemsTotal++;
    }
    if (ok && this.action === "reverse") {
      expect(m.redeemsSinceReverse).toBe(1);
      m.redeemsSinceReverse = 0;
      m.reversesTotal++;
    }
    // Successful redeems never outnumber reverses by more than one.
    expect(m.redeemsTotal - m.reversesTotal).toBeGreaterThanOrEqual(0);
    expect(m.redeemsTotal - m.reversesTotal).toBeLessThanOrEqual(1);
    if (m.status === "voided") expect(this.action === "void" || !ok).toBe(true);
  }
  toString = () => this.action;
}

describe("code state machine, model-based", () => {
  it("matches the written rules, and at most one redeem succeeds between reverses", () => {
    // Redeem-heavy weights so sequences actually reach issued/redeemed often.
    const commands = fc.commands(
      [
        fc.constantFrom<CodeAction>("publish", "issue", "hold", "confirm").map((a) => new ActionCommand(a)),
        fc.constant(new ActionCommand("redeem")),
        fc.constant(new ActionCommand("redeem")),
        fc.constant(new ActionCommand("reverse")),
        fc.constantFrom<CodeAction>("release", "return", "void").map((a) => new ActionCommand(a)),
      ],
      { maxCommands: 60 },
    );
    fc.assert(
      fc.property(commands, (cmds) => {
        fc.modelRun(
          () => ({
            model: { status: "staged", redeemsSinceReverse: 0, redeemsTotal: 0, reversesTotal: 0 } as Model,
            real: new Code(),
          }),
          cmds,
        );
      }),
      { numRuns: 400 },
    );
  });

  it("many codes under interleaved actions: each code's redeems minus reverses stays in {0, 1}", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 4 }), action), { maxLength: 200 }), (steps) => {
        const codes = Array.from({ length: 5 }, () => new Code());
        const balance = new Array(5).fill(0);
        for (const [i, a] of steps) {
          if (!codes[i].apply(a)) continue;
          if (a === "redeem") balance[i]++;
          if (a === "reverse") balance[i]--;
          expect(balance[i] === 0 || balance[i] === 1).toBe(true);
          expect(balance[i] === 1).toBe(codes[i].status === "redeemed");
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("the SQL the SkuPool runs for each transition", () => {
  it("sets the one target and guards on exactly the sources of the table", () => {
    for (const a of ACTIONS) {
      const { set, guard } = codeTransition(a);
      expect(set).toBe(`status = '${targetOf(a)}'`);
      expect(guard).toBe(
        `status IN (${sourcesOf(a)
          .map((s) => `'${s}'`)
          .join(", ")})`,
      );
      for (const s of sourcesOf(a)) expect(nextStatus(s, a)).toBe(targetOf(a));
    }
    expect(codeTransition("redeem")).toEqual({ set: "status = 'redeemed'", guard: "status IN ('issued')" });
    expect(codeTransition("void").guard).toBe("status IN ('available', 'held', 'issued')");
  });
});
