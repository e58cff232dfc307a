/**
 * What the hosted buy and order pages share: the language, the DOM helpers, JSON calls that map every
 * failure to an error code the page can explain, money and dates, and the frame protocol when a merchant's
 * page embeds them through /widget.js (versioned messages, sent only to the key's allowed origins, and
 * accepted only from the parent window at one of them; never a code or a token).
 */
export type Lang = "en" | "zh-CN";

/** The language choice is all a page keeps; a browser may deny storage to a third-party frame, so it is optional. */
export const savedLang = (): Lang | null => {
  try {
    return localStorage.getItem("ve.lang") as Lang | null;
  } catch {
    return null;
  }
};
export const saveLang = (next: Lang): void => {
  try {
    localStorage.setItem("ve.lang", next);
  } catch {
    /* storage denied (a third-party frame): the choice lasts for this page only */
  }
};
export let lang: Lang = savedLang() ?? (navigator.language.startsWith("zh") ? "zh-CN" : "en");
export const setLang = (next: Lang) => {
  lang = next;
  saveLang(next);
};
export const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Creates an element with text or children; attributes set as given. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export const money = (minor: number, currency: string) =>
  new Intl.NumberFormat(lang, { style: "currency", currency }).format(minor / 100);
export const when = (iso: string) =>
  new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));

export type Answer<T> = { ok: true; json: T } | { ok: false; code: string; status: number };

/** A JSON call; `network` when the request never got an answer. */
export async function call<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> },
) {
  try {
    const res = await fetch(path, {
      method: init.method ?? "POST",
      headers: { ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const json = await res.json().catch(() => null);
    if (res.ok) return { ok: true, json: json as T } satisfies Answer<T>;
    return { ok: false, code: (json?.error?.code as string) ?? "other", status: res.status } satisfies Answer<T>;
  } catch {
    return { ok: false, code: "network", status: 0 } satisfies Answer<T>;
  }
}

/** The publishable key of /pk/<key>/<page>, or null on the plain /order/ page. */
export const pageKey = () => /^\/pk\/(pk_[A-Za-z0-9_-]{10,60})\//.exec(location.pathname)?.[1] ?? null;

const frameOrigins = (document.querySelector('meta[name="ve-frame-origins"]')?.getAttribute("content") ?? "")
  .split(" ")
  .filter(Boolean);
const framed = window.parent !== window;

/** Tells the embedding page something (resize, paid, redeemed): to each allowed origin, so only the real parent hears it. */
export function tellParent(type: string, data: Record<string, string | number> = {}): void {
  if (!framed) return;
  for (const origin of frameOrigins) window.parent.postMessage({ ve: 1, type, ...data }, origin);
}

/** Inside a frame: keeps the parent's iframe as tall as the page, and takes the language the parent asks for. */
export function joinFrame(onLang: (l: Lang) => void): void {
  if (!framed) return;
  window.addEventListener("message", (e) => {
    if (e.source !== window.parent || !frameOrigins.includes(e.origin) || e.data?.ve !== 1) return;
    if (e.data.type === "init" && (e.data.lang === "en" || e.data.lang === "zh-CN")) onLang(e.data.lang);
  });
  let last = 0;
  new ResizeObserver(() => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    tellParent("resize", { height });
  }).observe(document.documentElement);
  tellParent("ready");
}
