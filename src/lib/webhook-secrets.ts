/**
 * Webhook signing secrets: `whsec_` + 32 random bytes (base64url), shown once. They must be
 * usable for signing, so they are sealed (AES-256-GCM, subscription id as associated data)
 * under a key derived with HKDF from CODE_ENCRYPTION_KEY with its own label — the code key
 * itself never touches webhook secrets. The key id is kept beside the ciphertext, so secrets
 * sealed before a CODE_ENCRYPTION_KEY rotation stay readable through CODE_ENCRYPTION_KEYS_OLD.
 */
import { base64urlDecode, base64urlEncode, requireSecrets } from "../security/secrets";

const LABEL = "voucher-edge/webhook-secret/v1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let cache: { source: unknown; keys: Promise<Map<string, CryptoKey>>; currentId: string } | null = null;

async function derive(raw: Uint8Array): Promise<CryptoKey> {
  const master = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encoder.encode(LABEL) },
    master,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function keys(env: Env): { keys: Promise<Map<string, CryptoKey>>; currentId: string } {
  const secrets = requireSecrets(env);
  if (cache && cache.source === secrets) return cache;
  const all = [{ id: secrets.encryptionKeyId, key: secrets.encryptionKey }, ...secrets.oldEncryptionKeys];
  const map = Promise.all(all.map(async (k) => [k.id, await derive(k.key)] as const)).then(
    (entries) => new Map(entries),
  );
  cache = { source: secrets, keys: map, currentId: secrets.encryptionKeyId };
  return cache;
}

export function newWebhookSecret(): string {
  return `whsec_${base64urlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export async function sealWebhookSecret(
  env: Env,
  subscriptionId: string,
  secret: string,
): Promise<{ sealed: string; keyId: string }> {
  const k = keys(env);
  const key = (await k.keys).get(k.currentId)!;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(subscriptionId) },
      key,
      encoder.encode(secret),
    ),
  );
  const out = new Uint8Array(12 + ct.length);
  out.set(iv);
  out.set(ct, 12);
  return { sealed: base64urlEncode(out), keyId: k.currentId };
}

export async function openWebhookSecret(
  env: Env,
  subscriptionId: string,
  sealed: string,
  keyId: string,
): Promise<string> {
  const key = (await keys(env).keys).get(keyId);
  const bytes = base64urlDecode(sealed);
  if (!key || !bytes || bytes.length < 29)
    throw new Error(`webhook secret of ${subscriptionId} cannot be opened (key id ${keyId})`);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: encoder.encode(subscriptionId) },
    key,
    bytes.subarray(12),
  );
  return decoder.decode(plain);
}
