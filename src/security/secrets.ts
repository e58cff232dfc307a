/**
 * Reads and checks the Worker's secrets once per isolate. A missing or malformed
 * secret is reported by name so the operator can fix it; requests then answer 503.
 */
export interface Secrets {
  adminToken: string | null;
  encryptionKey: Uint8Array;
  encryptionKeyId: string;
  /** Previous encryption keys (CODE_ENCRYPTION_KEYS_OLD): still read, never used to seal. */
  oldEncryptionKeys: { id: string; key: Uint8Array }[];
  hmacKey: Uint8Array;
}

export type SecretsResult = { ok: true; secrets: Secrets } | { ok: false; problem: string };

export function base64urlDecode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return null;
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  try {
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export function base64urlEncode(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function key32(env: Record<string, unknown>, name: string): Uint8Array | string {
  const raw = env[name];
  if (typeof raw !== "string" || raw.length === 0) return `secret ${name} is missing`;
  const bytes = base64urlDecode(raw.trim());
  if (bytes?.length !== 32) return `secret ${name} must be base64url of 32 random bytes`;
  return bytes;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

/** CODE_ENCRYPTION_KEYS_OLD: optional, comma-separated `id:base64url-of-32-bytes` pairs of previous keys. */
function oldKeys(raw: unknown, currentId: string): { id: string; key: Uint8Array }[] | string {
  if (raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "")) return [];
  const name = "CODE_ENCRYPTION_KEYS_OLD";
  if (typeof raw !== "string") return `secret ${name} must be comma-separated id:base64url-of-32-bytes pairs`;
  const out: { id: string; key: Uint8Array }[] = [];
  for (const part of raw.split(",")) {
    const entry = part.trim();
    const colon = entry.indexOf(":");
    const id = colon > 0 ? entry.slice(0, colon) : "";
    const key = colon > 0 ? base64urlDecode(entry.slice(colon + 1)) : null;
    // Never echo the entry: it holds key material.
    if (!KEY_ID.test(id) || !key || key.length !== 32)
      return `secret ${name} must be comma-separated id:base64url-of-32-bytes pairs`;
    if (id === currentId)
      return `secret ${name} lists the current key id ${id} (CODE_ENCRYPTION_KEY_ID); give the new key a new id`;
    if (out.some((k) => k.id === id)) return `secret ${name} lists the key id ${id} twice`;
    out.push({ id, key });
  }
  return out;
}

let cache: { source: unknown; result: SecretsResult } | null = null;

export function readSecrets(env: Env): SecretsResult {
  if (cache && cache.source === env) return cache.result;
  const vars = env as unknown as Record<string, unknown>;
  const enc = key32(vars, "CODE_ENCRYPTION_KEY");
  const mac = key32(vars, "CODE_HMAC_KEY");
  const admin = vars.ADMIN_TOKEN;
  let result: SecretsResult;
  if (typeof enc === "string") result = { ok: false, problem: enc };
  else if (typeof mac === "string") result = { ok: false, problem: mac };
  else if (admin !== undefined && (typeof admin !== "string" || admin.length < 24)) {
    result = { ok: false, problem: "secret ADMIN_TOKEN must be at least 24 characters (or unset to switch it off)" };
  } else {
    const keyId =
      typeof vars.CODE_ENCRYPTION_KEY_ID === "string" && vars.CODE_ENCRYPTION_KEY_ID
        ? vars.CODE_ENCRYPTION_KEY_ID
        : "k1";
    const old = oldKeys(vars.CODE_ENCRYPTION_KEYS_OLD, keyId);
    if (typeof old === "string") result = { ok: false, problem: old };
    else
      result = {
        ok: true,
        secrets: {
          adminToken: (admin as string | undefined) ?? null,
          encryptionKey: enc,
          encryptionKeyId: keyId,
          oldEncryptionKeys: old,
          hmacKey: mac,
        },
      };
  }
  cache = { source: env, result };
  return result;
}

/** For places that run only after the request middleware has checked the secrets. */
export function requireSecrets(env: Env): Secrets {
  const result = readSecrets(env);
  if (!result.ok) throw new Error(result.problem);
  return result.secrets;
}
