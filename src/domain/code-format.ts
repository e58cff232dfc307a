/**
 * Code formats: alphabets, normalisation and the default "XXXX-XXXX-XXXX-XXXX" shape.
 * Pure: randomness and keyed hashes come in as arguments, so this file has no I/O.
 */

export const CROCKFORD32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** Alphanumeric without I, L, O: those fold onto 1, 1, 0 during normalisation. */
export const ALPHANUMERIC = "0123456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const DIGITS = "0123456789";

export const CHARSETS = { crockford32: CROCKFORD32, alphanumeric: ALPHANUMERIC, digits: DIGITS } as const;
export type Charset = keyof typeof CHARSETS;

/** The default shape: 13 random + 3 keyed check characters of Crockford base32. */
export const DEFAULT_LENGTH = 16;
export const CHECK_LENGTH = 3;
/** A generated code must carry at least this many random bits. */
export const MIN_ENTROPY_BITS = 40;

export interface CodeRule {
  length: number;
  charset: Charset;
  prefix: string;
  group_size: number;
  separator: string;
  pin_length: number;
}

export const DEFAULT_RULE: CodeRule = {
  length: DEFAULT_LENGTH,
  charset: "crockford32",
  prefix: "",
  group_size: 4,
  separator: "-",
  pin_length: 8,
};

/**
 * Normalises what a person typed: upper case; spaces, dashes (also typographic ones),
 * dots, underscores dropped; O→0 and I/L→1. Every code is stored and looked up in this form, so
 * "abcd efgh" and "ABCD-EFGH" are the same code.
 */
export function normalizeCode(input: string): string {
  // One pass is not always a fixed point: upper-casing can denormalise a code point, and removing a separator
  // can put combining marks next to a letter they then reorder or compose with (ΐ + ﱞ). A valid code settles in
  // one pass (the second is a check); the odd inputs found so far settle in two or three, and eight bounds the work.
  let current = normalizeOnce(input);
  for (let pass = 0; pass < 8; pass++) {
    const next = normalizeOnce(current);
    if (next === current) return current;
    current = next;
  }
  return current;
}

function normalizeOnce(input: string): string {
  return input
    .normalize("NFKC")
    .toUpperCase()
    .normalize("NFKC")
    .replace(/[\s\-_.\u2010-\u2015\u2212]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
}

/** PINs are compared after trimming and upper-casing; separators inside a PIN are kept. */
export function normalizePin(input: string): string {
  return input.normalize("NFKC").trim().toUpperCase();
}

const CROCKFORD_BODY = new RegExp(`^[${CROCKFORD32}]{${DEFAULT_LENGTH}}$`);

/** True when a normalised code has the default shape, which always carries check characters. */
export function hasDefaultShape(normalized: string): boolean {
  return CROCKFORD_BODY.test(normalized);
}

/** Splits a default-shaped code into its random body and its check characters. */
export function splitCheck(normalized: string): { body: string; check: string } {
  return {
    body: normalized.slice(0, DEFAULT_LENGTH - CHECK_LENGTH),
    check: normalized.slice(DEFAULT_LENGTH - CHECK_LENGTH),
  };
}

/** Turns the first bytes of a keyed MAC into CHECK_LENGTH Crockford characters (15 bits). */
export function checkCharsFromMac(mac: Uint8Array): string {
  const bits = ((mac[0] << 16) | (mac[1] << 8) | mac[2]) >>> 0;
  let out = "";
  for (let i = 0; i < CHECK_LENGTH; i++) out += CROCKFORD32[(bits >>> (i * 5)) & 31];
  return out;
}

/** Whether a rule yields the default shape (and so gets check characters). */
export function ruleHasCheck(rule: CodeRule): boolean {
  return rule.charset === "crockford32" && rule.length === DEFAULT_LENGTH && rule.prefix === "";
}

/** Random bits a rule's codes carry: check characters are not random. */
export function ruleEntropyBits(rule: CodeRule): number {
  const randomChars = ruleHasCheck(rule) ? rule.length - CHECK_LENGTH : rule.length;
  return randomChars * Math.log2(CHARSETS[rule.charset].length);
}

/**
 * Maps random bytes onto an alphabet without modulo bias (rejection sampling).
 * Needs more bytes than characters; returns null when the bytes ran out.
 */
export function randomChars(alphabet: string, count: number, bytes: Uint8Array): string | null {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  for (let i = 0; i < bytes.length && out.length < count; i++) {
    if (bytes[i] < limit) out += alphabet[bytes[i] % alphabet.length];
  }
  return out.length === count ? out : null;
}

/** Bytes to draw so that rejection sampling almost never runs out. */
export function bytesNeeded(alphabet: string, count: number): number {
  const acceptance = (256 - (256 % alphabet.length)) / 256;
  return Math.ceil(count / acceptance) + 8;
}

/** Formats a normalised code for display: prefix kept, the rest grouped. */
export function formatCode(normalized: string, rule: Pick<CodeRule, "prefix" | "group_size" | "separator">): string {
  const prefix = normalizeCode(rule.prefix);
  const body = prefix && normalized.startsWith(prefix) ? normalized.slice(prefix.length) : normalized;
  const groups: string[] = [];
  if (rule.group_size > 0 && rule.separator) {
    for (let i = 0; i < body.length; i += rule.group_size) groups.push(body.slice(i, i + rule.group_size));
  } else {
    groups.push(body);
  }
  const grouped = groups.join(rule.separator);
  return prefix ? `${rule.prefix}${rule.separator || ""}${grouped}` : grouped;
}

/** Last four characters kept in clear for support ("ends in 7KQ2"). */
export function lastFour(normalized: string): string {
  return normalized.slice(-4);
}
