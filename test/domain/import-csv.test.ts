/**
 * Properties of CSV parsing for imports: what was written is read back, whatever the header, BOM, line endings
 * and blank lines, with the file's own line numbers.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CROCKFORD32 } from "../../src/domain/code-format";
import { checkImportLines, parseCsv } from "../../src/domain/import-lines";
import { fromAlphabet, RUNS } from "./code-fixtures";

/** Codes and PINs that need no CSV quoting and do not look like a header. */
const csvCode = fromAlphabet(CROCKFORD32, 4, 20);
const csvRows = fc.array(
  fc.record({ code: csvCode, pin: fc.option(fromAlphabet("0123456789", 4, 10), { nil: null }) }),
  { minLength: 1, maxLength: 30 },
);
interface Layout {
  bom: boolean;
  header: string | null;
  eol: string;
  trailingBlank: string[];
  finalEol: boolean;
  spaced: boolean;
  quoted: boolean;
}
const layout: fc.Arbitrary<Layout> = fc.record({
  bom: fc.boolean(),
  header: fc.constantFrom(null, "code", "code,pin", "CODE,PIN", '"code","pin"', " Code , Pin ", '"code"'),
  eol: fc.constantFrom("\n", "\r\n"),
  trailingBlank: fc.array(fc.constantFrom("", " ", "\t"), { maxLength: 4 }),
  finalEol: fc.boolean(),
  spaced: fc.boolean(),
  quoted: fc.boolean(),
});

function render(rows: { code: string; pin: string | null }[], l: Layout): string {
  const cell = (s: string) => (l.quoted ? `"${s}"` : l.spaced ? ` ${s} ` : s);
  const body = rows.map((r) => (r.pin === null ? cell(r.code) : `${cell(r.code)},${cell(r.pin)}`));
  const all = [...(l.header === null ? [] : [l.header]), ...body, ...l.trailingBlank];
  return (l.bom ? "\uFEFF" : "") + all.join(l.eol) + (l.finalEol ? l.eol : "");
}

describe("parseCsv", () => {
  it("reads back what was written, whatever the header, BOM, line endings and trailing blank lines", () => {
    fc.assert(
      fc.property(csvRows, layout, (rows, l) => {
        const { lines, firstLine } = parseCsv(render(rows, l));
        expect(lines).toEqual(rows.map((r) => ({ code: r.code, pin: r.pin })));
        expect(firstLine).toBe(l.header === null ? 1 : 2);
      }),
      RUNS,
    );
  });

  it("line numbers reported after parsing are the lines of the file (header and BOM included)", () => {
    fc.assert(
      fc.property(csvRows, layout, fc.nat(), (rows, l, at) => {
        const bad = at % rows.length;
        const broken = rows.map((r, i) => (i === bad ? { ...r, code: "!!" } : r));
        const text = render(broken, { ...l, quoted: false });
        const { lines, firstLine } = parseCsv(text);
        const { errors } = checkImportLines(
          lines.map((x) => ({ code: x.code })),
          false,
          () => true,
          firstLine,
        );
        const invalid = errors.filter((e) => e.error === "invalid_code");
        expect(invalid).toHaveLength(1);
        const physical = text.replace(/^\uFEFF/, "").split(/\r?\n/);
        expect(physical[invalid[0].line - 1].trim()).toMatch(/^!!\s*(,|$)/);
      }),
      RUNS,
    );
  });

  it("keeps blank lines in the middle (so numbering stays right) and drops only trailing ones", () => {
    const { lines, firstLine } = parseCsv("code\r\nAAAA\r\n\r\nBBBB\r\n\r\n  \r\n");
    expect(firstLine).toBe(2);
    expect(lines).toEqual([
      { code: "AAAA", pin: null },
      { code: "", pin: null },
      { code: "BBBB", pin: null },
    ]);
  });

  it("a lone BOM, a lone header, or nothing give no lines", () => {
    for (const text of ["", "\uFEFF", "\n\n", "\r\n", "code", "\uFEFFcode,pin\r\n", "code\n\n"])
      expect(parseCsv(text).lines, JSON.stringify(text)).toEqual([]);
  });

  it("an empty PIN cell means no PIN", () => {
    expect(parseCsv('AAAA,\nBBBB, \nCCCC,""').lines).toEqual([
      { code: "AAAA", pin: null },
      { code: "BBBB", pin: null },
      { code: "CCCC", pin: null },
    ]);
  });
});
