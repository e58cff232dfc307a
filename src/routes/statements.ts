/**
 * GET /v1/channels/{id}/statements?from=&to=[&format=csv]: a channel's ledger accounts over a period
 * (opening balance, entries with running balance, closing balance, totals), as JSON or CSV (RFC 4180).
 * Amounts are from the channel's side: a top-up or a commission is positive, an order paid from the
 * balance or a payout is negative.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { channelStatement, type StatementAccount } from "../db/ledger";
import { visibleChannel } from "../lib/channel-access";
import type { AppEnv } from "../lib/context";
import { badRequest, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { commonErrors, errorResponses, idParam } from "./schemas";

export const statementsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Ledger"];

const When = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/, "a date (2026-11-01) or an ISO date-time")
  .refine((s) => !Number.isNaN(Date.parse(s)), "not a valid date");

const Entry = z.object({
  time: z.string(),
  transaction_id: z.string(),
  type: z.string(),
  order_id: z.string().nullable(),
  memo: z.string().nullable(),
  amount: z.number(),
  running_balance: z.number(),
});
const Account = z.object({
  account: z.enum(["balance", "commission"]),
  currency: z.string(),
  opening_balance: z.number(),
  closing_balance: z.number(),
  entries: z.array(Entry),
  totals: z.object({
    credits: z.number().openapi({ description: "Sum of positive amounts" }),
    debits: z.number().openapi({ description: "Sum of negative amounts" }),
    net: z.number(),
  }),
});
const StatementSchema = z
  .object({
    object: z.literal("statement"),
    channel_id: z.string(),
    from: z.string(),
    to: z.string(),
    accounts: z.array(Account),
  })
  .openapi("Statement");

/** Minor-unit exponent of a currency (ISO 4217); 2 unless listed. */
const EXPONENT: Record<string, number> = {
  JPY: 0,
  KRW: 0,
  VND: 0,
  CLP: 0,
  ISK: 0,
  UGX: 0,
  XAF: 0,
  XOF: 0,
  PYG: 0,
  BHD: 3,
  KWD: 3,
  JOD: 3,
  OMR: 3,
  TND: 3,
  IQD: 3,
  LYD: 3,
};

export function decimal(minor: number, currency: string): string {
  const exp = EXPONENT[currency] ?? 2;
  const sign = minor < 0 ? "-" : "";
  const digits = String(Math.abs(minor)).padStart(exp + 1, "0");
  return exp === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/** RFC 4180 quoting, and no cell a spreadsheet would run as a formula (= + - @, tab, CR lead to a quote prefix). */
export function csvCell(value: string | number | null): string {
  let s = value === null ? "" : String(value);
  // Spreadsheets run cells that start with = + - @ as formulas; a plain (negative) amount stays a number.
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const totals = (a: StatementAccount) => {
  const credits = a.entries.filter((e) => e.amount > 0).reduce((s, e) => s + e.amount, 0);
  const debits = a.entries.filter((e) => e.amount < 0).reduce((s, e) => s + e.amount, 0);
  return { credits, debits, net: credits + debits };
};

function toCsv(accounts: StatementAccount[], from: string, to: string): string {
  const rows: (string | number | null)[][] = [
    ["account", "currency", "time", "transaction_id", "type", "order_id", "memo", "amount", "running_balance"],
  ];
  for (const a of accounts) {
    const d = (n: number) => decimal(n, a.currency);
    rows.push([a.kind, a.currency, from, null, "opening_balance", null, null, null, d(a.opening)]);
    for (const e of a.entries)
      rows.push([
        a.kind,
        a.currency,
        new Date(e.created_at).toISOString(),
        e.txn_id,
        e.type,
        e.order_id,
        e.memo,
        d(e.amount),
        d(e.running_balance),
      ]);
    const t = totals(a);
    rows.push([
      a.kind,
      a.currency,
      to,
      null,
      "closing_balance",
      null,
      `credits ${d(t.credits)}; debits ${d(t.debits)}`,
      d(t.net),
      d(a.closing),
    ]);
  }
  return `${rows.map((r) => r.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

statementsApp.openapi(
  createRoute({
    method: "get",
    path: "/channels/{id}/statements",
    tags,
    summary: "A channel's ledger statement for a period, as JSON or CSV",
    request: {
      params: idParam("chn"),
      query: z.object({
        from: When.optional().openapi({ description: "Start, inclusive (default: the beginning)" }),
        to: When.optional().openapi({ description: "End, exclusive (default: now)" }),
        format: z.enum(["json", "csv"]).optional().openapi({ description: "csv: the same as Accept: text/csv" }),
      }),
    },
    responses: {
      200: {
        description: "The statement",
        content: { "application/json": { schema: StatementSchema }, "text/csv": { schema: z.string() } },
      },
      ...commonErrors,
      ...errorResponses(422),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:read");
    const channel = await visibleChannel(c.env.DB, auth, c.req.valid("param").id);
    const q = c.req.valid("query");
    const from = q.from ? Date.parse(q.from) : 0;
    const to = q.to ? Date.parse(q.to) : Date.now() + 1;
    if (to <= from) throw badRequest("`to` must be after `from`");
    const { accounts, truncated } = await channelStatement(c.env.DB, channel.id, from, to);
    if (truncated)
      throw unprocessable("period_too_long", "more than 5000 entries in this period: ask for a shorter one");
    const [fromIso, toIso] = [new Date(from).toISOString(), new Date(to).toISOString()];
    const csv = q.format === "csv" || (q.format === undefined && /\btext\/csv\b/i.test(c.req.header("accept") ?? ""));
    if (csv) {
      c.header(
        "Content-Disposition",
        `attachment; filename="statement-${channel.id}-${fromIso.slice(0, 10)}-${toIso.slice(0, 10)}.csv"`,
      );
      // The route's declared response is the JSON statement; the CSV variant is outside the typed union.
      // biome-ignore lint/suspicious/noExplicitAny: see above
      return c.body(toCsv(accounts, fromIso, toIso), 200, { "Content-Type": "text/csv; charset=utf-8" }) as any;
    }
    return c.json(
      {
        object: "statement" as const,
        channel_id: channel.id,
        from: fromIso,
        to: toIso,
        accounts: accounts.map((a) => ({
          account: a.kind,
          currency: a.currency,
          opening_balance: a.opening,
          closing_balance: a.closing,
          totals: totals(a),
          entries: a.entries.map((e) => ({
            time: new Date(e.created_at).toISOString(),
            transaction_id: e.txn_id,
            type: e.type,
            order_id: e.order_id,
            memo: e.memo,
            amount: e.amount,
            running_balance: e.running_balance,
          })),
        })),
      },
      200,
    );
  },
);
