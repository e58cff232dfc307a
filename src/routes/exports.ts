/**
 * Export jobs: POST /v1/exports asks for a CSV of orders or of the redemption log under a filter (the list
 * route's own query), which the exports queue builds part by part (src/queues/exports.ts); GET /v1/exports/{id}
 * shows its progress; GET /v1/exports/{id}/file downloads it once done (UTF-8 with BOM, audited). Files are kept
 * 24 hours. A job covers the asking channel's subtree as it was when asked; only that channel or an ancestor may
 * read it. No export holds a code: orders list none, the log only the last 4 characters.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { type ExportJob, getExport, insertExport, listExports, readParts, unfinishedExports } from "../db/exports";
import { CSV_BOM, csvLines, ORDER_COLUMNS, REDEMPTION_COLUMNS } from "../domain/export-csv";
import { newId } from "../domain/ids";
import type { AppEnv } from "../lib/context";
import { ApiError, notFound } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { requireScope } from "../security/auth";
import { sessionOf } from "../security/sessions";
import { OrderListFilter } from "./orders";
import { RedemptionLogFilter } from "./redemption-list";
import { commonErrors, errorResponses, idParam, json, jsonBody, listOf } from "./schemas";

export const exportsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Exports"];
const KEEP_MS = 24 * 3600_000;
const MAX_UNFINISHED = 3;

const ExportCreate = z
  .discriminatedUnion("kind", [
    z.object({ kind: z.literal("orders"), filter: OrderListFilter.strict().default({}) }),
    z.object({
      kind: z.literal("redemptions"),
      filter: RedemptionLogFilter.strict().default({ outcome: "succeeded" }),
    }),
  ])
  .openapi("ExportCreate");

const ExportSchema = z
  .object({
    id: z.string(),
    object: z.literal("export"),
    kind: z.enum(["orders", "redemptions"]),
    filter: z.record(z.string(), z.unknown()),
    status: z.enum(["queued", "running", "done", "failed"]),
    rows: z.number().openapi({ description: "Rows written so far" }),
    total: z.number().nullable().openapi({ description: "Rows the filter matched when the job started" }),
    progress: z.number().nullable().openapi({ description: "0–1 once the total is known" }),
    error: z.string().nullable(),
    file_url: z.string().nullable().openapi({ description: "Where to download the CSV once done" }),
    created_at: z.string(),
    updated_at: z.string(),
    expires_at: z.string(),
  })
  .openapi("Export");

const iso = (ms: number) => new Date(ms).toISOString();
function view(j: ExportJob) {
  const total = j.total;
  return {
    id: j.id,
    object: "export" as const,
    kind: j.kind,
    filter: JSON.parse(j.filter) as Record<string, unknown>,
    status: j.status,
    rows: j.rows,
    total,
    progress: j.status === "done" ? 1 : total === null ? null : total === 0 ? 0 : Math.min(1, j.rows / total),
    error: j.error,
    file_url: j.status === "done" ? `/v1/exports/${j.id}/file` : null,
    created_at: iso(j.created_at),
    updated_at: iso(j.updated_at),
    expires_at: iso(j.expires_at),
  };
}

/** The job, if the caller's channel asked for it or is above the channel that did; else 404 (never 403). */
async function visibleExport(db: D1Database, auth: { path: string }, id: string, now: number) {
  const job = await getExport(db, id);
  if (!job || job.expires_at <= now || !job.scope_path.startsWith(auth.path)) throw notFound("export");
  return job;
}

exportsApp.openapi(
  createRoute({
    method: "post",
    path: "/exports",
    tags,
    summary: "Ask for a CSV export of orders or of the redemption log under a filter (built in the background)",
    request: { body: jsonBody(ExportCreate) },
    responses: { 202: json(ExportSchema, "The job, queued"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const body = c.req.valid("json");
    const now = Date.now();
    if ((await unfinishedExports(c.env.DB, auth.channelId, now)) >= MAX_UNFINISHED)
      throw new ApiError(
        429,
        "too_many_exports",
        `at most ${MAX_UNFINISHED} exports run at once: wait for one to finish`,
      );
    const job: ExportJob = {
      id: newId("exp", now),
      channel_id: auth.channelId,
      scope_path: auth.path,
      requested_by: sessionOf(auth)?.userId ?? auth.keyId,
      kind: body.kind,
      filter: JSON.stringify(body.filter),
      status: "queued",
      rows: 0,
      total: null,
      parts: 0,
      cursor: null,
      error: null,
      created_at: now,
      updated_at: now,
      expires_at: now + KEEP_MS,
    };
    await insertExport(c.env.DB, job);
    await c.env.EXPORTS.send({ export_id: job.id });
    c.header("Location", `/v1/exports/${job.id}`);
    return c.json(view(job), 202);
  },
);

exportsApp.openapi(
  createRoute({
    method: "get",
    path: "/exports",
    tags,
    summary: "The caller's channel's recent exports (kept 24 h), newest first",
    responses: { 200: json(listOf(ExportSchema, "ExportList"), "Up to 50 exports"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const now = Date.now();
    const jobs = (await listExports(c.env.DB, auth.channelId, 50)).filter((j) => j.expires_at > now);
    return c.json({ object: "list" as const, data: jobs.map(view), has_more: false, next_cursor: null }, 200);
  },
);

exportsApp.openapi(
  createRoute({
    method: "get",
    path: "/exports/{id}",
    tags,
    summary: "An export's status and progress",
    request: { params: idParam("exp") },
    responses: { 200: json(ExportSchema, "The job"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const job = await visibleExport(c.env.DB, auth, c.req.valid("param").id, Date.now());
    c.header("Cache-Control", "no-store");
    return c.json(view(job), 200);
  },
);

const PARTS_PER_READ = 5;

exportsApp.openapi(
  createRoute({
    method: "get",
    path: "/exports/{id}/file",
    tags,
    summary: "Download a finished export: CSV, UTF-8 with BOM (audited)",
    request: { params: idParam("exp") },
    responses: {
      200: { description: "The CSV", content: { "text/csv": { schema: z.string() } } },
      ...commonErrors,
      ...errorResponses(409),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "orders:read");
    const job = await visibleExport(c.env.DB, auth, c.req.valid("param").id, Date.now());
    if (job.status !== "done")
      throw new ApiError(409, "export_not_ready", `the export is ${job.status}: wait until its status is done`);
    const db = c.env.DB;
    const header = csvLines([job.kind === "orders" ? ORDER_COLUMNS : REDEMPTION_COLUMNS]);
    let next = 0;
    const encoder = new TextEncoder();
    // Streamed a few parts at a time, so a large file never sits in the Worker's memory whole.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(CSV_BOM + header));
      },
      async pull(controller) {
        const parts = await readParts(db, job.id, next, PARTS_PER_READ);
        for (const p of parts) controller.enqueue(encoder.encode(p));
        next += PARTS_PER_READ;
        if (next >= job.parts) controller.close();
      },
    });
    return c.body(stream, 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${job.kind}-${iso(job.created_at).slice(0, 10)}-${job.id}.csv"`,
      "Cache-Control": "no-store",
    });
  },
);
