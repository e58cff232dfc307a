// Debian's Chromium for the browser tests and `npm run screenshots`, driven by playwright-core (its own
// browser download does not work here). The flags keep it from calling out: this machine's network is closed.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** False on a machine without Debian's chromium (`apt-get install chromium fonts-noto-cjk`). */
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
