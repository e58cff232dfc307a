/** The secret the fake siteverify (webhook-receiver.ts) accepts; tests set it as TURNSTILE_SECRET. */
export const TURNSTILE_TEST_SECRET = "0x4AAAAAAAtest-turnstile-secret";
