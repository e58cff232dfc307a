/** Arbitraries for the code-format properties: what people type, awkward Unicode, separators, code rules. */
import fc from "fast-check";
import { type Charset, type CodeRule, CROCKFORD32 } from "../../src/domain/code-format";

export const RUNS = { numRuns: 300 };
export const CODE_CHARS = /^[0-9A-Z]*$/;

export const fromAlphabet = (alphabet: string, minLength: number, maxLength: number) =>
  fc.array(fc.constantFrom(...alphabet), { minLength, maxLength }).map((a) => a.join(""));
/** What a normalised code looks like: Crockford base32 (no I, L, O, U). */
export const normalized = (min = 4, max = 64) => fromAlphabet(CROCKFORD32, min, max);
export const asciiCodeish = fc.string({
  unit: fc.constantFrom(..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -_.\t"),
  maxLength: 40,
});
/** Characters that fold or change under NFKC / upper-casing: the awkward corners of Unicode. */
export const TRICKY = [
  "ΐ",
  "ΰ",
  "ǰ",
  "ŉ",
  "ß",
  "ﬁ",
  "ﬀ",
  "İ",
  "ı",
  "ſ",
  "\u212A",
  "\u212B",
  "ｏ",
  "Ⅰ",
  "①",
  "ǅ",
  "ᾳ",
  "ﬓ",
  "\u0345",
  "ẞ",
  "㎏",
  "Ⓞ",
];
export const unicodeish = fc
  .array(
    fc.oneof(
      fc.constantFrom(...TRICKY),
      fc.string({ unit: "binary", maxLength: 3 }),
      fc.constantFrom(..."aAoOiIlL01 -"),
    ),
    { maxLength: 12 },
  )
  .map((a) => a.join(""));

/** [code, code with `seps` inserted at random positions]. */
export const withSeparators = (s: fc.Arbitrary<string>, seps: string[], minInserts = 0) =>
  fc
    .tuple(s, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...seps)), { minLength: minInserts, maxLength: 8 }))
    .map(([code, inserts]): [string, string] => {
      let out = code;
      for (const [at, sep] of inserts) {
        const i = at % (out.length + 1);
        out = out.slice(0, i) + sep + out.slice(i);
      }
      return [code, out];
    });

export const ruleArb: fc.Arbitrary<CodeRule> = fc.record({
  length: fc.integer({ min: 6, max: 64 }),
  charset: fc.constantFrom<Charset>("crockford32", "alphanumeric", "digits"),
  prefix: fc.stringMatching(/^[A-Za-z0-9]{0,12}$/),
  group_size: fc.integer({ min: 0, max: 16 }),
  separator: fc.constantFrom("-", " ", ""),
  pin_length: fc.integer({ min: 4, max: 16 }),
});
