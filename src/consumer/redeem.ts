/**
 * The hosted redemption page (/redeem/): type or paste a code (and a PIN for cards), check it, redeem it, see
 * the result. Dependency-free, talks only to the public endpoints (POST /v1/public/codes/verify and
 * /v1/public/redemptions), keeps the code in the page's memory only (never in the URL or storage).
 */
import { joinFrame, savedLang, saveLang, tellParent } from "./page";
import { en, type Key, zh } from "./strings";

type Lang = "en" | "zh-CN";
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
let lang: Lang = savedLang() ?? (navigator.language.startsWith("zh") ? "zh-CN" : "en");
const t = (k: Key) => (lang === "zh-CN" ? zh : en)[k];
const fmtDate = (iso: string) =>
  new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" }).format(new Date(iso));

type State =
  | { step: "enter" }
  | { step: "checked"; product: string; until: string | null; last4: string }
  | { step: "done"; at: string };
let state: State = { step: "enter" };
let busy = false;

function render(): void {
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const el of document.querySelectorAll<HTMLElement>("[data-t]")) el.textContent = t(el.dataset.t as Key);
  const button = byId<HTMLButtonElement>("go");
  button.disabled = busy;
  button.textContent =
    state.step === "enter"
      ? t(busy ? "checking" : "check")
      : state.step === "checked"
        ? t(busy ? "redeeming" : "redeem")
        : t("another");
  const info = byId("info");
  info.replaceChildren();
  if (state.step === "checked") {
    info.append(line(t("valid")), line(`${t("product")}: ${state.product}`), line(`${t("ending")}: ${state.last4}`));
    info.append(line(state.until ? `${t("validUntil")}: ${fmtDate(state.until)}` : t("noExpiry")));
  } else if (state.step === "done")
    info.append(line(t("done"), "done"), line(`${t("redeemedAt")}: ${fmtDate(state.at)}`));
  for (const id of ["code", "pin"]) byId<HTMLInputElement>(id).readOnly = state.step !== "enter";
}

const line = (text: string, cls?: string) => {
  const p = document.createElement("p");
  p.textContent = text;
  if (cls) p.className = cls;
  return p;
};

function showError(key: Key | null): void {
  const box = byId("error");
  box.textContent = key ? t(key) : "";
  box.hidden = key === null;
}

/** The fields of the public verify and redeem answers this page reads. */
interface Answer {
  status: "issued" | "redeemed" | "voided" | "expired";
  product_id: string;
  product_name: string | null;
  last4: string;
  expires_at: string | null;
  redeemed_at: string;
}

async function post(path: string, body: unknown): Promise<{ ok: true; json: Answer } | { ok: false; code: Key }> {
  try {
    const res = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await res.json().catch(() => null);
    if (res.ok) return { ok: true, json };
    const code = json?.error?.code as string | undefined;
    return { ok: false, code: code && code in en ? (code as Key) : res.status === 400 ? "invalid" : "other" };
  } catch {
    return { ok: false, code: "network" };
  }
}

async function go(event: Event): Promise<void> {
  event.preventDefault();
  if (state.step === "done") {
    state = { step: "enter" };
    byId<HTMLInputElement>("code").value = "";
    byId<HTMLInputElement>("pin").value = "";
    showError(null);
    render();
    byId("code").focus();
    return;
  }
  const code = byId<HTMLInputElement>("code").value.trim();
  const pin = byId<HTMLInputElement>("pin").value.trim();
  if (!code) return showError("invalid");
  const body = { code, ...(pin ? { pin } : {}) };
  busy = true;
  showError(null);
  render();
  const answer = await post(state.step === "enter" ? "/v1/public/codes/verify" : "/v1/public/redemptions", body);
  busy = false;
  if (!answer.ok) showError(answer.code);
  else if (state.step === "enter") {
    const c = answer.json;
    if (c.status === "issued")
      state = { step: "checked", product: c.product_name ?? c.product_id, until: c.expires_at, last4: c.last4 };
    else
      showError(c.status === "redeemed" ? "already_redeemed" : c.status === "expired" ? "code_expired" : "code_voided");
  } else {
    state = { step: "done", at: answer.json.redeemed_at };
    tellParent("redeemed", { product_id: answer.json.product_id }); // never the code
  }
  render();
  (state.step === "enter" ? byId("code") : byId("go")).focus();
}

byId("form").addEventListener("submit", go);
byId<HTMLSelectElement>("lang").value = lang;
byId<HTMLSelectElement>("lang").addEventListener("change", (e) => {
  lang = (e.target as HTMLSelectElement).value as Lang;
  saveLang(lang);
  render();
});
joinFrame((next) => {
  lang = next;
  render();
});
render();
