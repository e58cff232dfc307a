/**
 * Languages of the console: English and Simplified Chinese, chosen from the browser (or the person's last
 * choice) and switchable. Every label goes through t(); numbers, money (minor units shown as yuan) and dates
 * go through Intl in the same locale. The root re-renders on a switch (App holds the language in state).
 */
import { en } from "./strings-en";
import { zh } from "./strings-zh";

export type Lang = "en" | "zh-CN";
export type Key = keyof typeof en;

const LANG_KEY = "ve.console.lang";
let current: Lang = initialLang();

function initialLang(): Lang {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem(LANG_KEY) : null;
  if (saved === "en" || saved === "zh-CN") return saved;
  const browser = typeof navigator !== "undefined" ? navigator.language : "en";
  return browser.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export const lang = () => current;
export function setLang(next: Lang): void {
  current = next;
  localStorage.setItem(LANG_KEY, next); // a preference, never a secret
  document.documentElement.lang = next;
}

export const hasKey = (key: string): key is Key => key in en;

/** The label in the current language; `{name}` placeholders are filled from `vars`. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text: string = (current === "zh-CN" ? zh[key] : undefined) ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

export const fmtNumber = (n: number) => new Intl.NumberFormat(current).format(n);
export const fmtPercent = (r: number | null) =>
  r === null ? "—" : new Intl.NumberFormat(current, { style: "percent", maximumFractionDigits: 1 }).format(r);

/** Minor units (分 / cents) as money: 12345 CNY → ¥123.45. */
export function fmtMoney(minor: number, currency = "CNY"): string {
  return new Intl.NumberFormat(current, { style: "currency", currency, currencyDisplay: "narrowSymbol" }).format(
    minor / 100,
  );
}

export function fmtDate(iso: string | null | undefined, withTime = true): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return new Intl.DateTimeFormat(current, {
    dateStyle: "medium",
    ...(withTime ? { timeStyle: "short" } : {}),
  }).format(d);
}

/** Yuan typed by a person ("12.5") → minor units (1250); null when it is not an amount. */
export function parseMoney(text: string): number | null {
  const s = text.trim().replace(/[,，\s¥]/g, "");
  if (!/^\d{1,10}(\.\d{1,2})?$/.test(s)) return null;
  const [whole, frac = ""] = s.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}
