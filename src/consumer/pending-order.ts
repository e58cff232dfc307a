/**
 * The order token a buyer takes to a gateway's page and back (Alipay opens at the top level, then returns to
 * /order/?out_trade_no=…): kept in sessionStorage for this tab only, for an hour, and removed once read. A
 * framed buy page's storage is partitioned from the top-level return (or denied): the order page then asks for
 * the look-up password with the order number filled in. Never a code: the token opens the order page only.
 */
const PREFIX = "ve.pending.";
const TTL_MS = 3600_000;

export function rememberPending(orderId: string, token: string): void {
  try {
    sessionStorage.setItem(PREFIX + orderId, JSON.stringify({ token, until: Date.now() + TTL_MS }));
  } catch {
    /* storage denied: the order link and the look-up password still work */
  }
}

export function takePending(orderId: string): string | null {
  try {
    const raw = sessionStorage.getItem(PREFIX + orderId);
    sessionStorage.removeItem(PREFIX + orderId);
    const saved = raw ? (JSON.parse(raw) as { token?: unknown; until?: unknown }) : null;
    return saved && typeof saved.token === "string" && Number(saved.until) > Date.now() ? saved.token : null;
  } catch {
    return null;
  }
}
