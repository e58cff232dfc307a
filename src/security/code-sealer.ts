/**
 * Turns plaintext codes into what may be stored (blind index, sealed payload, last4,
 * PIN hash), and generates new codes by a rule. Plaintext exists only in memory here.
 */
import {
  bytesNeeded,
  CHARSETS,
  CHECK_LENGTH,
  type CodeRule,
  DIGITS,
  formatCode,
  lastFour,
  normalizeCode,
  normalizePin,
  randomChars,
  ruleHasCheck,
} from "../domain/code-format";
import type { PreparedCode } from "../objects/sku-pool.schema";
import { type CodeKeys, digestBody, digestCode, pinHash, seal } from "./code-crypto";

export interface PlainCode {
  /** As shown to the buyer. */
  display: string;
  normalized: string;
  pin: string | null;
  /** The blind index, when generation already computed it. */
  idx?: string;
}

export async function prepareCode(keys: CodeKeys, code: PlainCode): Promise<PreparedCode> {
  const idx = code.idx ?? (await digestCode(keys, code.normalized)).index;
  const [sealed, pin_hash] = await Promise.all([
    seal(keys, idx, code.pin === null ? { c: code.display } : { c: code.display, p: code.pin }),
    code.pin === null ? Promise.resolve(null) : pinHash(keys, idx, normalizePin(code.pin)),
  ]);
  return { idx, sealed, last4: lastFour(code.normalized), pin_hash };
}

export function prepareCodes(keys: CodeKeys, codes: PlainCode[]): Promise<PreparedCode[]> {
  return Promise.all(codes.map((c) => prepareCode(keys, c)));
}

/** Generates `count` new plaintext codes by `rule` (with PINs when `withPin`). */
export async function generateCodes(
  keys: CodeKeys,
  rule: CodeRule,
  count: number,
  withPin: boolean,
): Promise<PlainCode[]> {
  const alphabet = CHARSETS[rule.charset];
  const withCheck = ruleHasCheck(rule);
  const randomLen = withCheck ? rule.length - CHECK_LENGTH : rule.length;
  const prefix = normalizeCode(rule.prefix);
  const need = bytesNeeded(alphabet, randomLen);
  const pinNeed = bytesNeeded(DIGITS, rule.pin_length);
  const out: PlainCode[] = [];
  for (let i = 0; i < count; i++) {
    let body: string | null = null;
    while (body === null) body = randomChars(alphabet, randomLen, crypto.getRandomValues(new Uint8Array(need)));
    let pin: string | null = null;
    while (withPin && pin === null)
      pin = randomChars(DIGITS, rule.pin_length, crypto.getRandomValues(new Uint8Array(pinNeed)));
    out.push({ display: "", normalized: prefix + body, pin });
  }
  if (withCheck) {
    const digests = await Promise.all(out.map((c) => digestBody(keys, c.normalized)));
    out.forEach((c, i) => {
      c.normalized += digests[i].check;
      c.idx = digests[i].index;
    });
  }
  for (const c of out) c.display = formatCode(c.normalized, rule);
  return out;
}
