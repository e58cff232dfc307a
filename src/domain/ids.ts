/**
 * Prefixed, time-sortable ids: `prd_` + 10 characters of millisecond time + 16 random
 * characters, Crockford base32. Sorting by id sorts by creation time, which keyset
 * pagination relies on.
 */
import { CROCKFORD32 } from "./code-format";

export type IdPrefix =
  | "prd"
  | "bat"
  | "chn"
  | "ord"
  | "rdm"
  | "key"
  | "evt"
  | "usr"
  | "cmp"
  | "hld"
  | "req"
  | "att"
  | "aud"
  | "ses"
  | "txn"
  | "pyo"
  | "pay"
  | "ntc"
  | "rfd"
  | "whk"
  | "dlv"
  | "rec"
  | "exp"
  | "cmp"
  | "clm";

export function newId(
  prefix: IdPrefix,
  now = Date.now(),
  random: Uint8Array = crypto.getRandomValues(new Uint8Array(16)),
): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD32[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD32[random[i] & 31];
  return `${prefix}_${time.toLowerCase()}${rand.toLowerCase()}`;
}

export const ROOT_CHANNEL_ID = "chn_root";
