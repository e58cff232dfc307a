/**
 * The console's one way to the server: the typed client from packages/client, on the same origin, with the
 * session cookie and the CSRF token. The token (not a key, and useless without the HttpOnly cookie) lives in
 * sessionStorage so a reload keeps the tab signed in; it is cleared at sign-out. Any 401 means the session
 * ended: the app shows the sign-in form again with a message.
 */
import { createVoucherEdgeClient, type Schemas } from "../../packages/client/src/index";

export type { Schemas };

const CSRF_KEY = "ve.console.csrf";

export const api = createVoucherEdgeClient({
  baseUrl: location.origin,
  csrfToken: () => sessionStorage.getItem(CSRF_KEY),
});

export const setCsrf = (token: string | null) =>
  token ? sessionStorage.setItem(CSRF_KEY, token) : sessionStorage.removeItem(CSRF_KEY);

export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const SESSION_ENDED = "ve:session-ended";

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The answer's data, or a ConsoleError with the API's code and message. */
export async function must<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch {
    throw new ConsoleError(0, "network", "network");
  }
  if (answer.response.ok && answer.data !== undefined) return answer.data;
  const body = (answer.error ?? {}) as { error?: { code?: string; message?: string; details?: unknown } };
  if (answer.response.status === 401) window.dispatchEvent(new Event(SESSION_ENDED));
  throw new ConsoleError(
    answer.response.status,
    body.error?.code ?? "http_error",
    body.error?.message ?? `HTTP ${answer.response.status}`,
    body.error?.details,
  );
}

/** A fresh Idempotency-Key for a write the person may retry by clicking again. */
export const idem = () => crypto.randomUUID();
