/**
 * Export jobs (GET/POST /v1/exports): a CSV of orders or of the redemption log for a filter, built in parts by the
 * exports queue (src/queues/exports.ts) so an export of any size never runs inside one request.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const exportJobs = sqliteTable(
  "export_jobs",
  {
    id: text("id").primaryKey(),
    /** The channel that asked; the export covers the subtree at `scope_path` as it was then. */
    channel_id: text("channel_id").notNull(),
    scope_path: text("scope_path").notNull(),
    /** The API key or console user that asked (for the audit trail). */
    requested_by: text("requested_by").notNull(),
    /** orders | redemptions | redemption_attempts */
    kind: text("kind").notNull(),
    /** The list filter, as JSON (the list route's query without cursor and limit). */
    filter: text("filter").notNull(),
    /** queued | running | done | failed | expired */
    status: text("status").notNull(),
    /** Rows written so far, and the count the filter matched when the job started (null until then). */
    rows: integer("rows").notNull().default(0),
    total: integer("total"),
    /** Parts written (the next part's number) and the list cursor to continue from (null: from the newest). */
    parts: integer("parts").notNull().default(0),
    cursor: text("cursor"),
    error: text("error"),
    created_at: integer("created_at").notNull(),
    updated_at: integer("updated_at").notNull(),
    expires_at: integer("expires_at").notNull(),
  },
  (t) => [index("export_jobs_channel").on(t.channel_id, t.id), index("export_jobs_expires").on(t.expires_at)],
);

/** The CSV of an export, part by part (at most a few thousand lines each, far below D1's row size limit). */
export const exportParts = sqliteTable(
  "export_parts",
  {
    export_id: text("export_id").notNull(),
    part: integer("part").notNull(),
    body: text("body").notNull(),
  },
  (t) => [primaryKey({ columns: [t.export_id, t.part] })],
);
