/**
 * Cryptography for card codes, all WebCrypto:
 * - blind index and check characters from one HMAC-SHA256 (see digestCode): lookup and dedup
 *   without plaintext, and guesses refused before any storage is read;
 * - PIN hash: HMAC over (blind index, PIN), so a SkuPool compares PINs synchronously;
 * - sealing: AES-256-GCM of the display form (and PIN), with the key id kept beside it. New codes are
 *   sealed under the current key; `sealKeys` also holds previous keys (CODE_ENCRYPTION_KEYS_OLD) for reading.
 * Sub-keys are derived from CODE_HMAC_KEY with HKDF so one secret cannot be misused for another purpose.
 */
import { checkCharsFromMac, hasDefaultShape, splitCheck } from "../domain/code-format";
import { base64urlDecode, base64urlEncode, type Secrets } from "./secrets";

export interface CodeKeys {
  index: CryptoKey;
  pin: CryptoKey;
  /** The current key: every new code is sealed under it. */
  seal: CryptoKey;
  sealKeyId: string;
  /** Key id → key, the current one and every old one still readable. */
  sealKeys: ReadonlyMap<string, CryptoKey>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let keysCache: { source: Secrets; keys: Promise<CodeKeys> } | null = null;

async function deriveHmacKey(master: CryptoKey, info: string): Promise<CryptoKey> {
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encoder.encode(info) },
    master,
    256,
  );
  return crypto.subtle.importKey("raw", bits, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

export function codeKeys(secrets: Secrets): Promise<CodeKeys> {
  if (keysCache && keysCache.source === secrets) return keysCache.keys;
  const keys = (async () => {
    const master = await crypto.subtle.importKey("raw", secrets.hmacKey, "HKDF", false, ["deriveBits"]);
    const [index, pin] = await Promise.all([
      deriveHmacKey(master, "voucher-edge/code-digest/v1"),
      deriveHmacKey(master, "voucher-edge/pin/v1"),
    ]);
    const aes = (raw: Uint8Array, usages: ("encrypt" | "decrypt")[]) =>
      crypto.subtle.importKey("raw", raw, "AES-GCM", false, usages);
    const seal = await aes(secrets.encryptionKey, ["encrypt", "decrypt"]);
    const sealKeys = new Map<string, CryptoKey>([[secrets.encryptionKeyId, seal]]);
    for (const old of secrets.oldEncryptionKeys) sealKeys.set(old.id, await aes(old.key, ["decrypt"]));
    return { index, pin, seal, sealKeyId: secrets.encryptionKeyId, sealKeys };
  })();
  keysCache = { source: secrets, keys };
  return keys;
}

async function mac(key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
}

export interface CodeDigest {
  /** Blind index: base64url of the keyed MAC, used for lookup and dedup. */
  index: string;
  /** For default-shaped codes, the check characters the MAC demands; null for other shapes. */
  check: string | null;
}

/**
 * One HMAC per code. For the default shape the MAC is taken over the 13 random characters:
 * its first bytes give the 3 check characters and the rest is the blind index, so the edge
 * test and the lookup key cost a single MAC. Other shapes MAC the whole code. The "d:" and
 * "x:" prefixes keep the two domains apart, so no code of one shape can collide with another.
 */
export async function digestCode(keys: CodeKeys, normalized: string): Promise<CodeDigest> {
  if (hasDefaultShape(normalized)) return digestBody(keys, splitCheck(normalized).body);
  return { index: base64urlEncode(await mac(keys.index, `x:${normalized}`)), check: null };
}

/** The digest of a default-shaped code from its random body alone (used when generating). */
export async function digestBody(keys: CodeKeys, body: string): Promise<CodeDigest> {
  const m = await mac(keys.index, `d:${body}`);
  return { index: base64urlEncode(m.subarray(3)), check: checkCharsFromMac(m) };
}

/**
 * The edge test and the index of a typed code: `ok` false means "certainly not one of ours",
 * decided without touching storage.
 */
export async function lookupKey(keys: CodeKeys, normalized: string): Promise<{ ok: boolean; index: string }> {
  const d = await digestCode(keys, normalized);
  return { ok: d.check === null || d.check === splitCheck(normalized).check, index: d.index };
}

export async function pinHash(keys: CodeKeys, index: string, normalizedPin: string): Promise<string> {
  return base64urlEncode(await mac(keys.pin, `${index}:${normalizedPin}`));
}

export interface SecretPayload {
  /** The code as shown to the buyer, e.g. "7KQ2-…". */
  c: string;
  /** The PIN of a card, if any. */
  p?: string;
}

/** AES-256-GCM with a random 96-bit nonce; the blind index is bound as associated data. */
export async function seal(keys: CodeKeys, index: string, payload: SecretPayload): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(index) },
    keys.seal,
    encoder.encode(JSON.stringify(payload)),
  );
  const out = new Uint8Array(12 + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), 12);
  return base64urlEncode(out);
}

/** Opens a sealed code with the key its row names; a key id we do not hold is a configuration bug, so it throws. */
export async function unseal(keys: CodeKeys, index: string, sealed: string, keyId: string): Promise<SecretPayload> {
  const key = keys.sealKeys.get(keyId);
  if (!key)
    throw new Error(
      `code encryption key ${keyId} is not configured (CODE_ENCRYPTION_KEY_ID / CODE_ENCRYPTION_KEYS_OLD)`,
    );
  const bytes = base64urlDecode(sealed);
  if (!bytes || bytes.length < 29) throw new Error("sealed code is malformed");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: encoder.encode(index) },
    key,
    bytes.subarray(12),
  );
  return JSON.parse(decoder.decode(plain)) as SecretPayload;
}
