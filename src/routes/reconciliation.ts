/**
 * /v1/reconciliation: the Durable Objects' truth against the D1 projections, the ledger and the
 * gateway notices (docs/money-flow.md). The merchant's alone: root keys with ledger:read.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { listReconciliationRuns } from "../db/reconciliation";
import type { AppEnv } from "../lib/context";
import { runReconciliation, toRun } from "../lib/reconciliation";
import { validationHook } from "../lib/validation";
import { requireRoot, requireScope } from "../security/auth";
import { commonErrors, json, listOf, PageQuery, page } from "./schemas";

export const reconciliationApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Reconciliation"];

const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC date YYYY-MM-DD")
  .refine(
    (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    "not a calendar date",
  )
  .openapi({ example: "2026-11-24" });

const DifferenceSchema = z.object({
  kind: z.enum([
    "code_counts",
    "channel_balance",
    "payment_vs_ledger",
    "payment_vs_order",
    "gateway_refund_unapplied",
    "ledger_unbalanced",
  ]),
  subject: z.string().openapi({ example: "channel:chn_01…" }),
  expected: z
    .union([z.number(), z.record(z.string(), z.number())])
    .openapi({ description: "The truth (Durable Object, or the gateway for payments)" }),
  actual: z
    .union([z.number(), z.record(z.string(), z.number())])
    .openapi({ description: "What the projection or the ledger says" }),
  message: z.string(),
});

const RunSchema = z
  .object({
    id: z.string(),
    object: z.literal("reconciliation"),
    date: z.string(),
    trigger: z.enum(["api", "cron"]),
    status: z.enum(["ok", "mismatch", "lagging"]).openapi({
      description:
        "lagging: some events are still on the queue; their differences are listed under `lagging` and close by themselves",
    }),
    differences: z.array(DifferenceSchema),
    lagging: z.array(z.string()),
    checked: z.object({ pools: z.number(), channels: z.number(), payments: z.number(), currencies: z.number() }),
    created_at: z.string(),
  })
  .openapi("Reconciliation");

reconciliationApp.openapi(
  createRoute({
    method: "get",
    path: "/reconciliation",
    tags,
    summary: "Compare the objects' truth, the projections, the ledger and the gateway notices of a day",
    request: {
      query: z.object({
        date: Day.optional().openapi({
          description:
            "UTC day whose gateway payments are checked (default: today); balances and counts are checked as of now",
        }),
      }),
    },
    responses: { 200: json(RunSchema, "Every difference found"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:read");
    requireRoot(auth);
    const date = c.req.valid("query").date ?? new Date().toISOString().slice(0, 10);
    c.header("Cache-Control", "no-store");
    return c.json(await runReconciliation(c.env, date, "api"), 200);
  },
);

reconciliationApp.openapi(
  createRoute({
    method: "get",
    path: "/reconciliation/runs",
    tags,
    summary: "The nightly runs, newest first",
    request: { query: PageQuery.extend({ status: z.enum(["ok", "mismatch", "lagging"]).optional() }) },
    responses: { 200: json(listOf(RunSchema, "ReconciliationRunList"), "A page of runs"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "ledger:read");
    requireRoot(auth);
    const q = c.req.valid("query");
    const results = await listReconciliationRuns(c.env.DB, q);
    return c.json(page(results.map(toRun), q.limit), 200);
  },
);
