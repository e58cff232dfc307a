/**
 * Properties of import validation: line numbers, duplicates, PIN rules, the reserved format. CSV parsing:
 * import-csv.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CROCKFORD32, normalizeCode } from "../../src/domain/code-format";
import { checkImportLines, type ImportLine } from "../../src/domain/import-lines";
import { fromAlphabet, RUNS } from "./code-fixtures";

/** Valid import codes that are not 16-character Crockford (so no check characters are involved). */
const plainCode = fromAlphabet(CROCKFORD32, 4, 64).filter((c) => c.length !== 16);
/** The same code as a person might have typed it in the file. */
const variant = (code: string) =>
  fc.constantFrom(
    code,
    code.toLowerCase(),
    ` ${code} `,
    code.replace(/(.{4})/g, "$1-"),
    code.replace(/0/g, "O").replace(/1/g, "l"),
  );
const pin = fromAlphabet("0123456789ABCDEFabcdef", 4, 32);
const line = (wantsPin: boolean): fc.Arbitrary<ImportLine> =>
  plainCode.chain((c) =>
    fc.record({ code: variant(c), pin: wantsPin ? pin : fc.constantFrom(null, undefined, "", "  ") }),
  );
const always = () => true;

describe("checkImportLines", () => {
  it("every line ends up exactly once, in ok or in errors, numbered from firstLine", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(
          fc.record({
            code: fc.oneof(plainCode, fc.string({ maxLength: 20 })),
            pin: fc.option(fc.oneof(pin, fc.string({ maxLength: 5 }))),
          }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 5 }),
        (wantsPin, lines, firstLine) => {
          const { ok, errors } = checkImportLines(lines, wantsPin, always, firstLine);
          const numbers = [...ok.map((l) => l.line), ...errors.map((e) => e.line)].sort((a, b) => a - b);
          expect(numbers).toEqual(lines.map((_, i) => i + firstLine));
          for (const l of ok) {
            expect(l.normalized).toBe(normalizeCode(lines[l.line - firstLine].code.trim()));
            expect(l.display).toBe(lines[l.line - firstLine].code.trim());
          }
        },
      ),
      RUNS,
    );
  });

  it("accepts distinct valid codes as they are, in file order", () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(plainCode, { maxLength: 30 })
          .chain((codes) => fc.tuple(fc.constant(codes), fc.tuple(...codes.map(variant)))),
        fc.integer({ min: 1, max: 3 }),
        ([codes, typed], firstLine) => {
          const { ok, errors } = checkImportLines(
            typed.map((code) => ({ code })),
            false,
            always,
            firstLine,
          );
          expect(errors).toEqual([]);
          expect(ok.map((l) => l.normalized)).toEqual(codes);
          expect(ok.map((l) => l.line)).toEqual(codes.map((_, i) => i + firstLine));
          expect(ok.every((l) => l.pin === null)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("a duplicate (after normalisation) points at the first line that had the code", () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(plainCode, { minLength: 1, maxLength: 8 })
          .chain((codes) =>
            fc
              .array(fc.nat({ max: codes.length - 1 }), { minLength: 1, maxLength: 25 })
              .chain((picks) =>
                fc.tuple(fc.constant(codes), fc.constant(picks), fc.tuple(...picks.map((p) => variant(codes[p])))),
              ),
          ),
        fc.integer({ min: 1, max: 3 }),
        ([codes, picks, typed], firstLine) => {
          const { ok, errors } = checkImportLines(
            typed.map((code) => ({ code })),
            false,
            always,
            firstLine,
          );
          const firstIndex = new Map<number, number>();
          for (const [i, p] of picks.entries()) if (!firstIndex.has(p)) firstIndex.set(p, i);
          expect(ok.map((l) => l.line)).toEqual([...firstIndex.values()].map((i) => i + firstLine));
          for (const e of errors) {
            expect(e.error).toBe("duplicate_in_file");
            const i = e.line - firstLine;
            expect(e.message).toBe(`same code as line ${firstIndex.get(picks[i])! + firstLine}`);
            expect(firstIndex.get(picks[i])).toBeLessThan(i);
          }
          expect(errors.length).toBe(picks.length - firstIndex.size);
          void codes;
        },
      ),
      RUNS,
    );
  });

  it("refuses codes that are not 4–64 letters or digits after normalisation", () => {
    const bad = fc.oneof(
      fromAlphabet(CROCKFORD32, 0, 3),
      fromAlphabet(CROCKFORD32, 65, 80),
      fc.constantFrom("", "   ", "ABC!", "ÄBCD", "卡密卡密", "AB\u0000CD", "----", "ABCD/EF"),
    );
    fc.assert(
      fc.property(bad, fc.boolean(), (code, wantsPin) => {
        const { ok, errors } = checkImportLines([{ code, pin: wantsPin ? "1234" : null }], wantsPin, always);
        expect(ok).toEqual([]);
        expect(errors).toEqual([{ line: 1, error: "invalid_code", message: expect.any(String) }]);
      }),
      RUNS,
    );
  });

  it("PIN rules: cards need one, other kinds take none, and a PIN is 4–32 letters or digits", () => {
    fc.assert(
      fc.property(
        plainCode,
        fc.option(fc.oneof(pin, fc.constantFrom("", " ", "123", "x".repeat(33), "12 34", "12-34", "ＰＩＮ1"))),
        fc.boolean(),
        (code, p, wantsPin) => {
          const { ok, errors } = checkImportLines([{ code, pin: p }], wantsPin, always);
          const trimmed = p?.trim() || null;
          const expected =
            wantsPin && !trimmed
              ? "pin_required"
              : !wantsPin && trimmed
                ? "pin_not_allowed"
                : trimmed && !/^[0-9A-Za-z]{4,32}$/.test(trimmed)
                  ? "invalid_pin"
                  : null;
          if (expected) expect(errors.map((e) => e.error)).toEqual([expected]);
          else expect(ok).toEqual([{ line: 1, display: code, normalized: code, pin: trimmed }]);
        },
      ),
      RUNS,
    );
  });

  it("16-character Crockford codes are reserved unless their check characters are right", () => {
    fc.assert(
      fc.property(
        fromAlphabet(CROCKFORD32, 16, 16),
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        (code, valid, firstLine) => {
          const asked: string[] = [];
          const { ok, errors } = checkImportLines(
            [{ code: code.toLowerCase().replace(/(.{4})(?!$)/g, "$1-") }],
            false,
            (n) => {
              asked.push(n);
              return valid;
            },
            firstLine,
          );
          expect(asked).toEqual([code]);
          if (valid) expect(ok.map((l) => l.normalized)).toEqual([code]);
          else expect(errors).toEqual([{ line: firstLine, error: "reserved_format", message: expect.any(String) }]);
        },
      ),
      RUNS,
    );
  });

  it("the check callback is consulted only for the default shape", () => {
    fc.assert(
      fc.property(fc.array(line(false), { maxLength: 20 }), (lines) => {
        const { errors } = checkImportLines(lines, false, () => {
          throw new Error("must not be called");
        });
        expect(errors.every((e) => e.error === "duplicate_in_file")).toBe(true);
      }),
      RUNS,
    );
  });

  it("a duplicate of a refused line is judged on its own (the first valid occurrence wins)", () => {
    const { ok, errors } = checkImportLines(
      [
        { code: "ABCD1234", pin: "9" },
        { code: "abcd-1234", pin: "5678" },
        { code: "ABCD1234", pin: "1111" },
      ],
      true,
      always,
      2,
    );
    expect(errors).toEqual([
      { line: 2, error: "invalid_pin", message: expect.any(String) },
      { line: 4, error: "duplicate_in_file", message: "same code as line 3" },
    ]);
    expect(ok.map((l) => l.line)).toEqual([3]);
  });
});
