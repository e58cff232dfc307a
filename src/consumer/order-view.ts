/**
 * One order as the buyer sees it, on the buy page after payment and on the order page: items, the status
 * timeline, the codes masked until tapped (POST /v1/public/orders/reveal), then each with Copy and a QR code.
 * Codes live in this view's memory only: never in the URL, storage or a message to the parent page.
 */
import { renderSVG } from "uqr";
import { byId, call, el, joinFrame, type Lang, lang, money, setLang, tellParent, when } from "./page";
import { en, type Key, zh } from "./shop-strings";

export const t = (k: Key) => (lang === "zh-CN" ? zh : en)[k];
/** An error code the page can explain, or the generic one. */
export const explain = (code: string): string => t((code in en ? code : "other") as Key);

export interface OrderPage {
  order_id: string;
  status: string;
  amount: number;
  currency: string;
  token: string;
  items: { product_id: string; product_name: string | null; quantity: number; unit_price: number }[];
  codes: { last4: string; status: string; expires_at: string | null }[];
  timeline: { step: string; state: "done" | "pending"; at: string | null; count?: number; of?: number }[];
}
type Revealed = { items: { codes: { code: string; pin?: string; expires_at: string | null }[] }[] };

export const lookupOrder = (body: unknown) => call<OrderPage>("/v1/public/orders/lookup", { body });

function copyButton(text: string, label: string): HTMLButtonElement {
  const button = el("button", { type: "button", class: "secondary" }, label);
  button.addEventListener("click", async () => {
    await navigator.clipboard?.writeText(text).catch(() => undefined);
    button.textContent = t("copied");
  });
  return button;
}

function codeRow(c: { code: string; pin?: string; expires_at: string | null }): HTMLElement {
  const qr = el("div", { class: "qr", hidden: "" });
  const toggle = el("button", { type: "button", class: "secondary", "aria-expanded": "false" }, t("showQr"));
  toggle.addEventListener("click", () => {
    const open = qr.hidden;
    if (open && !qr.firstChild) qr.innerHTML = renderSVG(c.code, { border: 2 });
    qr.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = t(open ? "hideQr" : "showQr");
  });
  return el(
    "li",
    { class: "code" },
    el("span", { class: "label" }, t("codeLabel")),
    el("code", {}, c.code),
    ...(c.pin ? [el("span", { class: "label" }, t("pinLabel")), el("code", {}, c.pin)] : []),
    ...(c.expires_at ? [el("p", { class: "hint" }, `${t("validUntil")} ${when(c.expires_at)}`)] : []),
    el("div", { class: "actions" }, copyButton(c.code, t("copy")), toggle),
    qr,
  );
}

function timeline(page: OrderPage): HTMLElement {
  const list = el("ol", { class: "timeline" });
  for (const s of page.timeline) {
    const progress = s.of && s.of > 1 && s.step === "redeemed" ? ` (${s.count}/${s.of})` : "";
    const at = s.state === "done" && s.at ? when(s.at) : s.state === "pending" ? t("pending") : "";
    list.append(
      el(
        "li",
        { class: s.state, "data-step": s.step },
        el("strong", {}, `${t(`step_${s.step}` as Key)}${progress}`),
        el("span", {}, at),
      ),
    );
  }
  return list;
}

/** Renders the order into `root`; `onRefresh` reloads it. */
export function renderOrder(root: HTMLElement, page: OrderPage, onRefresh: () => void): void {
  const codes = el("div", { id: "codes", "aria-live": "polite" });
  const masked = el("ul", { class: "codes" });
  for (const c of page.codes)
    masked.append(el("li", { class: "code" }, `•••• ${c.last4} · ${t(`status_${c.status}` as Key) ?? c.status}`));
  codes.append(masked);
  if (page.status === "fulfilled") {
    const show = el("button", { type: "button" }, t("showCodes"));
    const error = el("p", { class: "error", role: "alert", hidden: "" });
    show.addEventListener("click", async () => {
      show.disabled = true;
      show.textContent = t("revealing");
      const answer = await call<Revealed>("/v1/public/orders/reveal", { body: { token: page.token } });
      if (!answer.ok) {
        show.disabled = false;
        show.textContent = t("showCodes");
        error.textContent = explain(answer.code);
        error.hidden = false;
        return;
      }
      const list = el("ul", { class: "codes" });
      for (const item of answer.json.items) for (const c of item.codes) list.append(codeRow(c));
      codes.replaceChildren(list);
      // The first reveal is a step of the timeline: show it done without reloading the codes away.
      const step = root.querySelector<HTMLElement>('.timeline li[data-step="revealed"].pending');
      if (step) {
        step.className = "done";
        step.lastElementChild!.textContent = when(new Date().toISOString());
      }
      (list.querySelector("button") as HTMLButtonElement | null)?.focus();
    });
    codes.append(show, error);
  } else if (page.status === "pending_payment") codes.append(el("p", { class: "hint" }, t("not_fulfilled")));
  const link = `${location.origin}/order/#t=${page.token}`;
  const refresh = el("button", { type: "button", class: "secondary" }, t("refresh"));
  refresh.addEventListener("click", onRefresh);
  root.replaceChildren(
    el(
      "section",
      { class: "card", "aria-labelledby": "order-h" },
      el("h2", { id: "order-h" }, `${t("orderNumber")}: ${page.order_id}`),
      el("p", {}, `${t("total")}: ${money(page.amount, page.currency)}`),
      el("h3", {}, t("items")),
      el("ul", {}, ...page.items.map((i) => el("li", {}, `${i.product_name ?? i.product_id} × ${i.quantity}`))),
      el("h3", {}, t("timeline")),
      timeline(page),
      codes,
      el("h3", {}, t("orderLink")),
      el("p", { class: "hint" }, t("orderLinkHint")),
      el(
        "div",
        { class: "actions" },
        el("a", { href: link, target: "_blank", rel: "noopener" }, link.replace(/#t=.*/, "#…")),
        copyButton(link, t("copyLink")),
        refresh,
      ),
    ),
  );
  tellParent("order", { order_id: page.order_id, status: page.status });
}

/**
 * Starts a shop page's language: the switch, the language the embedding page asks for, and the first render.
 * `rerender` draws the page's current view again in the new language.
 */
export function startLanguage(titleKey: Key, rerender: () => void): void {
  const apply = (next: Lang) => {
    setLang(next);
    document.documentElement.lang = lang;
    document.title = t(titleKey);
    for (const node of document.querySelectorAll<HTMLElement>("[data-t]")) node.textContent = t(node.dataset.t as Key);
    byId<HTMLSelectElement>("lang").value = lang;
    rerender();
  };
  byId<HTMLSelectElement>("lang").addEventListener("change", (e) =>
    apply((e.target as HTMLSelectElement).value as Lang),
  );
  joinFrame(apply);
  apply(lang);
}
