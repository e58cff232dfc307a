/**
 * What the event log keeps of each event (pure): its channel and a summary of safe fields only. A code, a
 * PIN, a secret or a customer's payment data never enters the log; an order is its id, status and amount, a
 * redemption its id, product and last 4.
 */
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON from our own outboxes, read field by field
type Data = Record<string, any>;

export interface LogEntry {
  channelId: string;
  subjectId: string | null;
  summary: Record<string, string | number | null>;
}

const str = (v: unknown) => (typeof v === "string" ? v : null);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function logEntry(event: { type: string; source: string; data: unknown }): LogEntry | null {
  const d = (event.data ?? {}) as Data;
  const o = d.order as Data | undefined;
  if (event.type.startsWith("order.") && str(o?.channel_id)) {
    return {
      channelId: o!.channel_id,
      subjectId: str(o!.id),
      summary: {
        status: str(o!.status),
        total_amount: num(o!.total_amount),
        currency: str(o!.currency),
        ...(d.refund ? { refund_amount: num(d.refund.amount) } : {}),
        ...(d.payment ? { payment_method: str(d.payment.method) } : {}),
      },
    };
  }
  if (event.type === "code.redeemed" || event.type === "code.redemption_reversed") {
    const channelId = str(d.sold_channel_id) ?? str(d.channel_id);
    if (!channelId) return null;
    return {
      channelId,
      subjectId: str(d.redemption_id),
      summary: { product_id: event.source.split(":")[1] ?? null, last4: str(d.last4), order_id: str(d.order_id) },
    };
  }
  if (event.type.startsWith("stock.") && str(d.channel_id))
    return { channelId: d.channel_id, subjectId: str(d.product_id), summary: { quota: num(d.quota) } };
  if (event.type === "balance.topped_up" && event.source.startsWith("channel:"))
    return {
      channelId: event.source.slice("channel:".length),
      subjectId: null,
      summary: { amount: num(d.amount), currency: str(d.currency) },
    };
  return null;
}
