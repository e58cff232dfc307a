/**
 * Security primitives, one place for all: constant-time comparison, hex and SHA-256.
 * A leaf module: it imports nothing from the project, so anything may import it.
 *
 * The comparisons use Workers' `crypto.subtle.timingSafeEqual` (a non-standard extension of
 * workerd), which throws when the lengths differ: lengths are compared first, and a mismatch
 * still spends one compare (of a buffer with itself) before answering false.
 */
const encoder = new TextEncoder();

/** Constant-time equality of two byte sequences; sequences of different lengths are unequal. */
export function timingSafeEqualBytes(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) {
    crypto.subtle.timingSafeEqual(a, a);
    return false;
  }
  return crypto.subtle.timingSafeEqual(a, b);
}

/**
 * Constant-time equality of two strings (tokens, hashes, signatures), compared as UTF-8 bytes.
 * The time depends on the lengths only, never on where the strings differ.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  return timingSafeEqualBytes(encoder.encode(a), encoder.encode(b));
}

/** Lower-case hex of some bytes. */
export const hex = (bytes: ArrayBuffer | Uint8Array): string =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

/** Lower-case hex SHA-256 of the UTF-8 of a text. */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}
