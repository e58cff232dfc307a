/**
 * fast-check arbitraries for hostile values (strings, numbers, nesting, odd keys) and the body
 * mutator that keeps valid bodies close to valid while replacing, removing or adding fields.
 */
import fc from "fast-check";

/**
 * Characters for a header value: visible ASCII and space. (workerd accepts Latin-1 too but
 * re-encodes it as UTF-8 with a warning per request; one fixed case covers that.)
 */
const headerChar = fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n));
export const headerString = (maxLength = 40) => fc.string({ unit: headerChar, maxLength });

/** Strings people and attackers send: unicode, controls, bidi, huge, number-like. */
export const nastyString = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "  \t\n",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-0",
    "0x10",
    "null",
    "undefined",
    "true",
    "[]",
    "{}",
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "' OR 1=1 --",
    '"; DROP TABLE products; --',
    "%",
    "%00",
    "\u0000",
    "\u0000abc",
    "\uFEFF",
    "\u202Eabc",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "💳🎟️",
    "卡密兑换码",
    "ΐ",
    "ﬁ",
    "\uD800",
    "\uDFFF",
    "<script>alert(1)</script>",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
    "${7*7}",
    "{{7*7}}",
    "../../etc/passwd",
    "a".repeat(201),
    "x".repeat(5000),
    "9".repeat(400),
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);

export const nastyNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    1.5,
    -1.5,
    0.1,
    1e-300,
    1e308,
    -1e308,
    2 ** 31,
    -(2 ** 31),
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53) - 2,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    1_000_000_000_001,
    100_001,
    1001,
    3651,
    721,
    17,
  ),
  fc.integer({ min: -1000, max: 30 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** A value nested `depth` levels deep, in arrays or objects. */
export function nested(depth: number, leaf: unknown = 1, asObject = false): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyNumber },
  { weight: 3, arbitrary: nastyString },
  // Cloned: a constant object is one instance, and a body built from it is written into (setPath), so a
  // shared {} could end up inside itself and make JSON.stringify throw (seen once in 10 runs).
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, true, false, [], {}, [null], [[]], { "": "" }).map((v) => structuredClone(v)),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.boolean()).map(([d, o]) => nested(d, "x", o)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, nastyString, { maxKeys: 4 }) },
);

export const extraKey = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "",
    " ",
    "ID",
    "Name",
    "unknown_field",
    "🔑",
    "a.b",
    "items[0]",
  ),
  fc.string({ maxLength: 10 }),
);

export type Path = (string | number)[];

/** Sets an own property (so "__proto__" is serialised as a key, not a prototype). */
function setOwn(target: any, key: string | number, value: unknown) {
  // An array's "length" cannot be redefined as an arbitrary value; such a mutation is skipped.
  if (Array.isArray(target) && key === "length") return;
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function setPath(root: any, path: Path, value: unknown): any {
  if (path.length === 0) return value;
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    if (node[k] === null || typeof node[k] !== "object") setOwn(node, k, typeof path[i + 1] === "number" ? [] : {});
    node = node[k];
  }
  setOwn(node, path[path.length - 1], value);
  return root;
}

function deletePath(root: any, path: Path) {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    node = node?.[path[i]];
    if (node === null || typeof node !== "object") return;
  }
  if (Array.isArray(node) && typeof path[path.length - 1] === "number") node.splice(path[path.length - 1] as number, 1);
  else delete node[path[path.length - 1]];
}

/**
 * Valid bodies with a few fields replaced by hostile values, a field removed, or an
 * unexpected key added: the mutations stay close enough to valid to reach deep checks.
 */
export function mutatedBody(
  bases: fc.Arbitrary<Record<string, unknown>>,
  paths: Path[],
  values: fc.Arbitrary<unknown> = weirdValue,
): fc.Arbitrary<unknown> {
  const pathArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...paths) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom<Path>([], ...paths), extraKey).map(([p, k]) => [...p.slice(0, -1), k]),
    },
  );
  return fc.oneof(
    { weight: 2, arbitrary: bases },
    {
      weight: 8,
      arbitrary: fc
        .tuple(
          bases,
          fc.array(fc.tuple(pathArb, values), { minLength: 1, maxLength: 3 }),
          fc.option(fc.constantFrom(...paths), { nil: undefined }),
        )
        .map(([base, sets, del]) => {
          let body: any = structuredClone(base);
          if (del) deletePath(body, del);
          for (const [p, v] of sets) body = setPath(body, p, v);
          return body;
        }),
    },
    { weight: 1, arbitrary: weirdValue },
  );
}
