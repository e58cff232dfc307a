/**
 * The hosted order page (/order/, or /pk/<key>/order inside a merchant's page): opened by the link shown after
 * payment (the order token in the URL fragment, which no server sees) or by order number + look-up password.
 */
import { explain, lookupOrder, type OrderPage, renderOrder, startLanguage, t } from "./order-view";
import { byId, el } from "./page";
import { takePending } from "./pending-order";

let rerender: () => void = showForm;
const view = () => byId("view");

function showForm(error = "", orderId = ""): void {
  rerender = () => showForm(error, orderId);
  const box = el("p", { class: "error", role: "alert", ...(error ? {} : { hidden: "" }) }, error);
  const button = el("button", { type: "submit" }, t("find"));
  const form = el(
    "form",
    { novalidate: "" },
    el("h2", {}, t("findTitle")),
    el("p", { class: "hint" }, orderId ? t("returned") : t("findIntro")),
    el("label", { for: "order-id" }, t("orderNumber")),
    el("input", { id: "order-id", autocomplete: "off", spellcheck: "false", autocapitalize: "none", value: orderId }),
    el(
      "label",
      { for: "order-password" },
      t("password")
        .replace(/[（(].*[)）]/, "")
        .trim(),
    ),
    el("input", { id: "order-password", type: "password", autocomplete: "current-password" }),
    box,
    button,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const orderId = byId<HTMLInputElement>("order-id").value.trim();
    const password = byId<HTMLInputElement>("order-password").value;
    if (!/^ord_[a-z0-9]{1,40}$/.test(orderId) || !password) return showForm(t("invalid"));
    button.disabled = true;
    button.textContent = t("finding");
    const answer = await lookupOrder({ order_id: orderId, password });
    if (!answer.ok) return showForm(explain(answer.code));
    show(answer.json);
  });
  view().replaceChildren(form);
  // Focus follows a failed try only: on load, an embedded page must not pull the merchant's page to itself.
  if (error) byId("order-id").focus();
}

function show(page: OrderPage): void {
  rerender = () => show(page);
  renderOrder(view(), page, () => void open(page.token));
}

async function open(token: string): Promise<void> {
  view().replaceChildren(el("p", { class: "hint", role: "status" }, t("loading")));
  const answer = await lookupOrder({ token });
  if (!answer.ok) return showForm(explain(answer.code));
  show(answer.json);
}

// Back from a gateway's page: Alipay adds out_trade_no (our order id) to the return URL's query.
const returnedFrom = /^ord_[a-z0-9]{1,40}$/.exec(new URLSearchParams(location.search).get("out_trade_no") ?? "")?.[0];
const token = /^#t=(vot1\.[\w.]+)$/.exec(location.hash)?.[1] ?? (returnedFrom ? takePending(returnedFrom) : null);
startLanguage("orderTitle", () => rerender());
if (token) void open(token);
else if (returnedFrom) showForm("", returnedFrom);
