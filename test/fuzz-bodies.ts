/** Body texts (JSON of a structure, or broken JSON around it) and the Content-Types sent with them. */
import fc from "fast-check";
import { headerString } from "./fuzz-values";

const rawNumbers = [
  "1e999",
  "-1e999",
  "1E400",
  "-0",
  "0.0000000000000000000000000001",
  "123456789012345678901234567890",
  "9007199254740993",
  "1.0",
  "01",
  "+1",
  ".5",
  "0x10",
  "NaN",
  "Infinity",
];
const malformed = [
  "",
  " ",
  "{",
  "}",
  "[",
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  "{a:1}",
  "nul",
  "tru",
  '"unterminated',
  '{"a":"\\u12"}',
  '{"a":"\\x41"}',
  "[1,2",
  '{"a":1}}',
  '{"a":1} trailing',
  "\uFEFF{}",
  "\u0000",
  '{"a":\u0001}',
  "null",
  "true",
  "0",
  '"str"',
  "[]",
  "[{}]",
  '{"__proto__":{"root":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  "a=1&b=2",
  "code,pin\nABC,1234",
  '{"a":1,"a":2}',
  "\xff\xfe",
  "\ud800",
];

/** The body text: mostly JSON of the structure, sometimes broken JSON around it. */
export function bodyText(structure: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: structure.map((s) => JSON.stringify(s) ?? "null") },
    {
      weight: 1,
      arbitrary: fc.tuple(structure, fc.nat()).map(([s, n]) => {
        const t = JSON.stringify(s) ?? "";
        return t.slice(0, n % (t.length + 1));
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(structure, fc.constantFrom(...rawNumbers))
        .map(([s, num]) => (JSON.stringify(s) ?? "").replace(/-?\d+(\.\d+)?([eE][+-]?\d+)?/, num)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(structure, fc.constantFrom('{"root":true}', '{"scopes":["keys:write"]}', "null", "1", "[]"))
        .map(([s, v]) => (JSON.stringify(s) ?? "").replace(/^\{/, `{"__proto__":${v},`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(structure, fc.constantFrom("constructor", "__proto__", "prototype"))
        .map(([s, k]) => (JSON.stringify(s) ?? "").replace(/^\{/, `{"${k}":{"prototype":{"polluted":true}},`)),
    },
    { weight: 1, arbitrary: fc.constantFrom(...malformed) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((d) => "[".repeat(d) + "]".repeat(d)) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((d) => `${'{"a":'.repeat(d)}1${"}".repeat(d)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((d) => "[".repeat(d)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  );
}

export const contentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant("application/json") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      undefined,
      "",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/json;charset=latin1",
      "application/vnd.api+json",
      "application/merge-patch+json",
      "text/plain",
      "text/plain;charset=UTF-8",
      "text/csv",
      "text/csv; charset=utf-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=xyz",
      "multipart/form-data",
      "application/xml",
      "*/*",
      "application/json, text/csv",
      "json",
      "application/",
      ";;;",
      'application/json; boundary="',
      "text/html",
    ),
  },
  { weight: 1, arbitrary: headerString(30) },
);
