/** Properties of code generation: unbiased random characters, check characters, and the entropy of code rules. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ALPHANUMERIC,
  bytesNeeded,
  CHARSETS,
  CHECK_LENGTH,
  type CodeRule,
  CROCKFORD32,
  checkCharsFromMac,
  DEFAULT_LENGTH,
  DEFAULT_RULE,
  DIGITS,
  hasDefaultShape,
  lastFour,
  MIN_ENTROPY_BITS,
  normalizeCode,
  randomChars,
  ruleEntropyBits,
  ruleHasCheck,
  splitCheck,
} from "../../src/domain/code-format";
import { fromAlphabet, normalized, RUNS, ruleArb } from "./code-fixtures";

describe("randomChars", () => {
  const alphabets = fc.constantFrom(
    CROCKFORD32,
    ALPHANUMERIC,
    DIGITS,
    "AB",
    "ABC",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
  );

  it("equals rejection sampling: bytes at or above the largest multiple of the alphabet size are skipped", () => {
    fc.assert(
      fc.property(
        alphabets,
        fc.integer({ min: 0, max: 40 }),
        fc.uint8Array({ maxLength: 80 }),
        (alphabet, count, bytes) => {
          const limit = 256 - (256 % alphabet.length);
          const accepted = [...bytes]
            .filter((b) => b < limit)
            .slice(0, count)
            .map((b) => alphabet[b % alphabet.length])
            .join("");
          const out = randomChars(alphabet, count, bytes);
          if (accepted.length < count) expect(out).toBeNull();
          else expect(out).toBe(accepted);
        },
      ),
      RUNS,
    );
  });

  it("only ever yields characters of the alphabet, exactly `count` of them", () => {
    fc.assert(
      fc.property(
        alphabets,
        fc.integer({ min: 1, max: 40 }),
        fc.uint8Array({ minLength: 0, maxLength: 120 }),
        (alphabet, count, bytes) => {
          const out = randomChars(alphabet, count, bytes);
          if (out === null) return;
          expect(out.length).toBe(count);
          for (const ch of out) expect(alphabet.includes(ch)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("returns null when there are fewer bytes than characters", () => {
    fc.assert(
      fc.property(alphabets, fc.integer({ min: 1, max: 40 }), fc.nat(), (alphabet, count, n) => {
        const bytes = new Uint8Array(n % count); // strictly fewer bytes than characters
        expect(randomChars(alphabet, count, bytes)).toBeNull();
      }),
      RUNS,
    );
    expect(randomChars(DIGITS, 1, new Uint8Array([255, 254, 250, 251]))).toBeNull(); // all rejected (limit 250)
  });

  it("is unbiased: every character of the alphabet is hit by the same number of byte values", () => {
    for (const alphabet of [
      CROCKFORD32,
      ALPHANUMERIC,
      DIGITS,
      "ABC",
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    ]) {
      const hits = new Map<string, number>();
      for (let b = 0; b < 256; b++) {
        const ch = randomChars(alphabet, 1, new Uint8Array([b]));
        if (ch !== null) hits.set(ch, (hits.get(ch) ?? 0) + 1);
      }
      expect(hits.size).toBe(alphabet.length);
      expect(new Set(hits.values()).size).toBe(1);
    }
  });

  it("bytesNeeded covers the expected number of draws", () => {
    fc.assert(
      fc.property(alphabets, fc.integer({ min: 1, max: 64 }), (alphabet, count) => {
        const acceptance = (256 - (256 % alphabet.length)) / 256;
        expect(bytesNeeded(alphabet, count)).toBeGreaterThanOrEqual(count / acceptance);
        expect(bytesNeeded(alphabet, count)).toBeGreaterThanOrEqual(count);
      }),
      RUNS,
    );
  });
});

describe("check characters", () => {
  it("checkCharsFromMac yields 3 Crockford characters for any MAC", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 3, maxLength: 64 }), (mac) => {
        const check = checkCharsFromMac(mac);
        expect(check).toHaveLength(CHECK_LENGTH);
        expect(check).toMatch(new RegExp(`^[${CROCKFORD32}]{3}$`));
        expect(normalizeCode(check)).toBe(check);
      }),
      RUNS,
    );
  });

  it("depends only on the first 3 bytes, and uses 15 bits of them without collisions", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 3, maxLength: 32 }),
        fc.uint8Array({ minLength: 0, maxLength: 32 }),
        (mac, tail) => {
          const other = new Uint8Array([...mac.slice(0, 3), ...tail]);
          expect(checkCharsFromMac(other)).toBe(checkCharsFromMac(mac));
        },
      ),
      RUNS,
    );
    const seen = new Set<string>();
    for (let v = 0; v < 1 << 15; v++) seen.add(checkCharsFromMac(new Uint8Array([0, v >> 8, v & 0xff])));
    expect(seen.size).toBe(1 << 15);
  });

  it("a default-shaped code splits into 13 body + 3 check characters", () => {
    fc.assert(
      fc.property(normalized(16, 16), (code) => {
        expect(hasDefaultShape(code)).toBe(true);
        const { body, check } = splitCheck(code);
        expect(body).toHaveLength(DEFAULT_LENGTH - CHECK_LENGTH);
        expect(check).toHaveLength(CHECK_LENGTH);
        expect(body + check).toBe(code);
        expect(lastFour(code)).toBe(code.slice(-4));
      }),
      RUNS,
    );
    fc.assert(
      fc.property(
        normalized(4, 64).filter((c) => c.length !== 16),
        (code) => void expect(hasDefaultShape(code)).toBe(false),
      ),
      RUNS,
    );
    fc.assert(
      fc.property(
        fromAlphabet("ILOU", 1, 1),
        normalized(15, 15),
        (bad, rest) => void expect(hasDefaultShape(bad + rest)).toBe(false),
      ),
      RUNS,
    );
  });
});

describe("rules", () => {
  it("only the default shape (crockford32, 16 characters, no prefix) carries check characters", () => {
    fc.assert(
      fc.property(ruleArb, (rule) => {
        expect(ruleHasCheck(rule)).toBe(
          rule.charset === "crockford32" && rule.length === DEFAULT_LENGTH && rule.prefix === "",
        );
      }),
      RUNS,
    );
    expect(ruleHasCheck(DEFAULT_RULE)).toBe(true);
  });

  it("entropy counts random characters only: the default rule carries 65 bits", () => {
    expect(ruleEntropyBits(DEFAULT_RULE)).toBeCloseTo(65, 10);
    fc.assert(
      fc.property(ruleArb, (rule) => {
        const random = ruleHasCheck(rule) ? rule.length - CHECK_LENGTH : rule.length;
        expect(ruleEntropyBits(rule)).toBeCloseTo(random * Math.log2(CHARSETS[rule.charset].length), 9);
        // Display details never change the entropy.
        expect(ruleEntropyBits({ ...rule, group_size: 0, separator: "", pin_length: 4 })).toBe(ruleEntropyBits(rule));
      }),
      RUNS,
    );
  });

  it("entropy grows with length (apart from the default shape's check characters) and with the alphabet", () => {
    fc.assert(
      fc.property(ruleArb, (rule) => {
        fc.pre(rule.length < 64 && !ruleHasCheck(rule) && !ruleHasCheck({ ...rule, length: rule.length + 1 }));
        expect(ruleEntropyBits({ ...rule, length: rule.length + 1 })).toBeGreaterThan(ruleEntropyBits(rule));
        expect(ruleEntropyBits({ ...rule, charset: "digits" })).toBeLessThanOrEqual(
          ruleEntropyBits({ ...rule, charset: "crockford32" }) + 1e-9,
        );
      }),
      RUNS,
    );
  });

  it("the weakest rules the API accepts sit on the right side of the 40-bit floor", () => {
    const digits = (length: number): CodeRule => ({ ...DEFAULT_RULE, charset: "digits", length });
    expect(ruleEntropyBits(digits(12))).toBeLessThan(MIN_ENTROPY_BITS);
    expect(ruleEntropyBits(digits(13))).toBeGreaterThanOrEqual(MIN_ENTROPY_BITS);
    expect(ruleEntropyBits({ ...DEFAULT_RULE, length: 8 })).toBe(40);
    expect(ruleEntropyBits({ ...DEFAULT_RULE, length: 7 })).toBeLessThan(MIN_ENTROPY_BITS);
  });
});
