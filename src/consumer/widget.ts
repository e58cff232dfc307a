/**
 * The embeddable widget's loader (/widget.js): registers <ve-buy>, <ve-order> and <ve-redeem>, each of which
 * opens the hosted page of its publishable key (`key="pk_…"`) in a cross-origin iframe that resizes itself.
 * Messages are versioned (`ve: 1`) and checked both ways: this side accepts only messages from its own
 * iframe at the widget's origin; the frame talks only to the key's allowed origins. No code or token ever
 * crosses: the host page hears `ready`, `resize`, `paid` {order_id} and `order` {order_id, status}, as
 * DOM events `ve-ready`, `ve-paid`, `ve-order` on the element.
 */
const widgetOrigin = new URL((document.currentScript as HTMLScriptElement | null)?.src ?? location.href).origin;
const PAGES = { "ve-buy": "buy", "ve-order": "order", "ve-redeem": "redeem" } as const;
const TITLES = { buy: "Buy", order: "Your order", redeem: "Redeem a code" } as const;

class VoucherFrame extends HTMLElement {
  private frame: HTMLIFrameElement | null = null;
  private readonly onMessage = (e: MessageEvent) => {
    if (e.origin !== widgetOrigin || !this.frame || e.source !== this.frame.contentWindow) return;
    const data = e.data as { ve?: number; type?: string; height?: number } | null;
    if (data?.ve !== 1 || typeof data.type !== "string") return;
    if (data.type === "resize" && typeof data.height === "number")
      this.frame.style.height = `${Math.min(Math.max(data.height, 120), 4000)}px`;
    if (data.type === "ready") {
      const lang = this.getAttribute("lang");
      if (lang) this.frame.contentWindow?.postMessage({ ve: 1, type: "init", lang }, widgetOrigin);
    }
    const { ve: _v, type, ...detail } = data as Record<string, unknown>;
    this.dispatchEvent(new CustomEvent(`ve-${type}`, { detail, bubbles: true }));
  };

  connectedCallback(): void {
    const page = PAGES[this.localName as keyof typeof PAGES];
    const key = this.getAttribute("key") ?? "";
    if (!/^pk_[A-Za-z0-9_-]{10,60}$/.test(key)) {
      this.textContent = `${this.localName}: set key="pk_…" to your publishable key`;
      return;
    }
    const frame = document.createElement("iframe");
    frame.src = `${widgetOrigin}/pk/${key}/${page}`;
    frame.title = this.getAttribute("title") ?? TITLES[page];
    frame.setAttribute("allow", "clipboard-write");
    frame.style.cssText = "display:block;width:100%;height:480px;border:0;color-scheme:normal";
    this.frame = frame;
    window.addEventListener("message", this.onMessage);
    this.replaceChildren(frame);
  }

  disconnectedCallback(): void {
    window.removeEventListener("message", this.onMessage);
    this.frame = null;
  }
}

for (const name of Object.keys(PAGES))
  if (!customElements.get(name)) customElements.define(name, class extends VoucherFrame {});
