/**
 * The hosted order page (/order/, or /pk/<key>/order inside a merchant's page): opened by the link shown after
 * payment (the order token in the URL fragment, which no server sees) or by order number + look-up password.
 */
import { explain, lookupOrder, type OrderPage, renderOrder, startLanguage, t } from "./order-view";
import { byId, el } from "./page";

let rerender: () => void = showForm;
const view = () => byId("view");

function showForm(error = ""): void {
  rerender = () => showForm(error);
  const box = el("p", { class: "error", role: "alert", ...(error ? {} : { hidden: "" }) }, error);
  const button = el("button", { type: "submit" }, t("find"));
  const form = el(
    "form",
    { novalidate: "" },
    el("h2", {}, t("findTitle")),
    el("p", { class: "hint" }, t("findIntro")),
    el("label", { for: "order-id" }, t("orderNumber")),
    el("input", { id: "order-id", autocomplete: "off", spellcheck: "false", autocapitalize: "none" }),
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

const token = /^#t=(vot1\.[\w.]+)$/.exec(location.hash)?.[1];
startLanguage("orderTitle", () => rerender());
if (token) void open(token);
