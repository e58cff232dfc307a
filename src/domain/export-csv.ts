/**
 * The CSV of an export (pure): one definition of the columns of orders and of the redemption log, shared by the
 * server's export jobs and the console, so a file has the same columns wherever it was made. UTF-8 with a BOM
 * so Excel opens Chinese correctly; cells quoted when they need it, and a leading ' on cells that start like a
 * formula (=, +, -, @) so a spreadsheet never runs them. Money in yuan (minor units / 100).
 */
export type Cell = string | number | null;

export const CSV_BOM = "\uFEFF";

export function csvCell(v: Cell): string {
  let s = v === null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Lines ending in CRLF, no BOM (a file is BOM + header + parts). */
export const csvLines = (rows: Cell[][]): string => rows.map((r) => `${r.map(csvCell).join(",")}\r\n`).join("");

export interface OrderRow {
  id: string;
  created_at: string;
  channel_id: string;
  status: string;
  customer_ref: string | null;
  currency: string;
  total_amount: number;
  items: { product_id: string; quantity: number }[];
}

export const ORDER_COLUMNS = [
  "id",
  "created_at",
  "channel_id",
  "status",
  "customer_ref",
  "currency",
  "total_amount_yuan",
  "units",
  "products",
];

export const orderCells = (o: OrderRow): Cell[] => [
  o.id,
  o.created_at,
  o.channel_id,
  o.status,
  o.customer_ref,
  o.currency,
  (o.total_amount / 100).toFixed(2),
  o.items.reduce((s, i) => s + i.quantity, 0),
  o.items.map((i) => i.product_id).join(" "),
];

export interface RedemptionLogRow {
  id: string;
  at: string;
  outcome: string;
  reason: string | null;
  product_id: string | null;
  channel_id: string;
  order_id: string | null;
  last4: string | null;
  reversed_at: string | null;
}

export const REDEMPTION_COLUMNS = [
  "id",
  "at",
  "outcome",
  "reason",
  "product_id",
  "channel_id",
  "order_id",
  "last4",
  "reversed_at",
];

export const redemptionCells = (r: RedemptionLogRow): Cell[] => [
  r.id,
  r.at,
  r.outcome,
  r.reason,
  r.product_id,
  r.channel_id,
  r.order_id,
  r.last4,
  r.reversed_at,
];
