/**
 * The hosted buy page (/pk/<publishable key>/buy): the key's channel's products at its price
 * (GET /v1/catalog), a checkout (POST /v1/checkout, one Idempotency-Key per attempt so a retry cannot buy
 * twice), the payment (the sandbox here; a gateway's own pay page opens at the top level, never in a frame),
 * then the order with its codes (order-view.ts). The order token stays in memory and in the order link's fragment.
 */
import { explain, lookupOrder, type OrderPage, renderOrder, startLanguage, t } from "./order-view";
import { byId, call, el, money, pageKey, tellParent } from "./page";
import { rememberPending } from "./pending-order";

interface Product {
  id: string;
  name: string;
  description: string | null;
  price: number;
  currency: string;
  per_order_max: number | null;
}
interface Checkout {
  order_id: string;
  amount: number;
  currency: string;
  order_token: string;
  payment: { gateway: string; pay_url?: string };
}

const key = pageKey();
const view = () => byId("view");
const auth = () => ({ authorization: `Bearer ${key}` });
let products: Product[] = [];
let gateways: string[] = [];
let rerender: () => void = () => undefined;

function message(text: string, cls = "hint"): void {
  view().replaceChildren(el("p", { class: cls, role: cls === "error" ? "alert" : "status" }, text));
}

async function load(): Promise<void> {
  if (!key) return message(t("noKey"), "error");
  message(t("loading"));
  const answer = await call<{ products: Product[]; gateways: string[] }>("/v1/catalog", {
    method: "GET",
    headers: auth(),
  });
  if (!answer.ok) return message(explain(answer.code), "error");
  ({ products, gateways } = answer.json);
  // WeChat Pay's H5 cashier refuses to run inside WeChat's own browser (that one needs JSAPI pay).
  if (/MicroMessenger/i.test(navigator.userAgent)) gateways = gateways.filter((g) => g !== "wechat");
  rerender = showCatalog;
  showCatalog();
}

function showCatalog(): void {
  if (products.length === 0 || gateways.length === 0) {
    message(products.length === 0 ? t("empty") : t("noGateway"), products.length === 0 ? "hint" : "error");
    return;
  }
  const list = el("fieldset", {}, el("legend", {}, t("chooseProduct")));
  products.forEach((p, i) => {
    const id = `p-${i}`;
    const radio = el("input", { type: "radio", name: "product", id, value: p.id });
    if (i === 0) radio.checked = true;
    list.append(
      el("div", { class: "choice" }, radio, el("label", { for: id }, `${p.name} · ${money(p.price, p.currency)}`)),
    );
    if (p.description) list.append(el("p", { class: "hint" }, p.description));
  });
  const pay = el("fieldset", {}, el("legend", {}, t("payWith")));
  gateways.forEach((g, i) => {
    const radio = el("input", { type: "radio", name: "gateway", id: `g-${i}`, value: g });
    if (i === 0) radio.checked = true;
    pay.append(
      el(
        "div",
        { class: "choice" },
        radio,
        el("label", { for: `g-${i}` }, g === "sandbox" || g === "alipay" || g === "wechat" ? t(g) : g),
      ),
    );
  });
  const error = el("p", { id: "error", class: "error", role: "alert", hidden: "" });
  const button = el("button", { type: "submit" }, t("continue"));
  const form = el(
    "form",
    { novalidate: "" },
    list,
    el("label", { for: "qty" }, t("quantity")),
    el("input", { id: "qty", type: "number", min: "1", max: "100", value: "1", inputmode: "numeric" }),
    el("label", { for: "password" }, t("password")),
    el("input", { id: "password", type: "password", autocomplete: "new-password", "aria-describedby": "pw-hint" }),
    el("p", { id: "pw-hint", class: "hint" }, t("passwordHint")),
    pay,
    error,
    button,
  );
  let idempotencyKey = crypto.randomUUID();
  form.addEventListener("input", () => {
    idempotencyKey = crypto.randomUUID(); // a changed order is a new order; a retry of the same one is not
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const quantity = Number(byId<HTMLInputElement>("qty").value);
    const password = byId<HTMLInputElement>("password").value;
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 100 || (password && password.length < 8)) {
      error.textContent = t("invalid");
      error.hidden = false;
      return;
    }
    button.disabled = true;
    button.textContent = t("starting");
    const answer = await call<Checkout>("/v1/checkout", {
      headers: { ...auth(), "idempotency-key": idempotencyKey },
      body: {
        items: [{ product_id: data.get("product"), quantity }],
        gateway: data.get("gateway"),
        // A gateway's own page sends the buyer back here (Alipay adds out_trade_no to the query).
        ...(data.get("gateway") === "sandbox" ? {} : { return_url: `${location.origin}/order/` }),
        ...(password ? { lookup_password: password } : {}),
      },
    });
    button.disabled = false;
    button.textContent = t("continue");
    if (!answer.ok) {
      error.textContent = explain(answer.code);
      error.hidden = false;
      return;
    }
    showPayment(answer.json);
  });
  view().replaceChildren(form);
}

function showPayment(co: Checkout): void {
  rerender = () => showPayment(co);
  const error = el("p", { class: "error", role: "alert", hidden: "" });
  const parts: (Node | string)[] = [el("p", {}, `${t("total")}: ${money(co.amount, co.currency)}`)];
  const url = co.payment.pay_url ?? "";
  if (co.payment.gateway === "sandbox" && url.startsWith("/v1/public/sandbox/pay/")) {
    const button = el("button", { type: "button" }, t("payNow"));
    button.addEventListener("click", async () => {
      button.disabled = true;
      button.textContent = t("paying");
      const paid = await call(url, {});
      if (!paid.ok) {
        button.disabled = false;
        button.textContent = t("payNow");
        error.textContent = explain(paid.code);
        error.hidden = false;
        return;
      }
      void waitForOrder(co.order_token);
    });
    parts.push(button);
  } else if (/^https:\/\//.test(url)) {
    // Alipay and WeChat Pay refuse to run inside a frame: their page always opens at the top level.
    rememberPending(co.order_id, co.order_token);
    const link = `${location.origin}/order/#t=${co.order_token}`;
    parts.push(
      el("p", { class: "hint" }, t("payLeaveHint")),
      el("p", {}, el("a", { href: link, target: "_blank", rel: "noopener" }, t("orderLink"))),
      el("a", { class: "button", href: url, target: "_top", rel: "noopener" }, t("payElsewhere")),
    );
  }
  parts.push(error);
  view().replaceChildren(el("section", { class: "card" }, ...parts));
  (view().querySelector("button, a.button") as HTMLElement | null)?.focus();
}

async function waitForOrder(token: string): Promise<void> {
  message(t("waiting"));
  for (let i = 0; i < 60; i++) {
    const answer = await lookupOrder({ token });
    if (answer.ok && answer.json.status !== "pending_payment" && answer.json.status !== "processing") {
      tellParent("paid", { order_id: answer.json.order_id });
      return showOrder(answer.json);
    }
    if (!answer.ok && answer.code !== "network") return message(explain(answer.code), "error");
    await new Promise((r) => setTimeout(r, 1000));
  }
  message(t("waiting"));
}

function showOrder(page: OrderPage): void {
  rerender = () => showOrder(page);
  const again = el("button", { type: "button", class: "secondary" }, t("buyAnother"));
  again.addEventListener("click", () => {
    rerender = showCatalog;
    showCatalog();
  });
  const root = el("div");
  renderOrder(root, page, () => void waitForOrder(page.token));
  view().replaceChildren(root, again);
  (root.querySelector("button") as HTMLElement | null)?.focus();
}

startLanguage("buyTitle", () => rerender());
void load();
