/**
 * Reads and checks the Worker's secrets once per isolate. A missing or malformed
 * secret is reported by name so the operator can fix it; requests then answer 503.
 */
export interface Secrets {
  adminToken: string | null;
  encryptionKey: Uint8Array;
  encryptionKeyId: string;
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
  if (!bytes || bytes.length !== 32) return `secret ${name} must be base64url of 32 random bytes`;
  return bytes;
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
    const keyId = typeof vars.CODE_ENCRYPTION_KEY_ID === "string" && vars.CODE_ENCRYPTION_KEY_ID ? vars.CODE_ENCRYPTION_KEY_ID : "k1";
    result = { ok: true, secrets: { adminToken: (admin as string | undefined) ?? null, encryptionKey: enc, encryptionKeyId: keyId, hmacKey: mac } };
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
