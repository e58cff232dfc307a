/**
 * Fixtures for the console-session tests: users, log-ins from their own IPs, sessions (cookie and CSRF token),
 * calls made as a session, and `seen`, every response text of a file, scanned for password hashes.
 */
import { call } from "./helpers";

export const PASSWORD = "correct horse battery staple";
let seq = 0;
export const uniq = (label: string) => `${label}-${Date.now().toString(36)}-${++seq}@example.com`;
export const ip = () => `198.51.100.${(++seq % 250) + 1}`;
/** Every response text of this file, checked for password hashes at the end. */
export const seen: string[] = [];

export async function track<T extends { text: string }>(p: Promise<T>): Promise<T> {
  const res = await p;
  seen.push(res.text);
  return res;
}

export async function createUser(role: string, extra: Record<string, unknown> = {}, email = uniq(role)) {
  const res = await track(call("POST", "/v1/users", { email, password: PASSWORD, role, ...extra }));
  if (res.status !== 201) throw new Error(`createUser: ${res.status} ${res.text}`);
  return { ...(res.json as { id: string; email: string }), email };
}

export async function login(email: string, password = PASSWORD, from = ip()) {
  return track(
    call("POST", "/v1/sessions", { email, password }, { token: null, headers: { "cf-connecting-ip": from } }),
  );
}

export interface Session {
  cookie: string;
  csrf: string;
  id: string;
}

export async function session(email: string): Promise<Session> {
  const res = await login(email);
  if (res.status !== 201) throw new Error(`login: ${res.status} ${res.text}`);
  const jwt = /ve_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1];
  return { cookie: `ve_session=${jwt}`, csrf: res.json.csrf_token, id: res.json.id };
}

export function as(s: Session, method: string, path: string, body?: unknown, csrf: string | null = s.csrf) {
  return track(
    call(method, path, body, {
      token: null,
      headers: { cookie: s.cookie, ...(csrf === null ? {} : { "x-csrf-token": csrf }) },
    }),
  );
}

export const product = { name: "Session product", kind: "code", price: 1500, currency: "CNY" };
