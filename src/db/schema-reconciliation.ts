/** Reconciliation: per-source event progress and the stored runs (see src/domain/reconciliation.ts). */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Events applied per source ("sku:<product>:<shard>", "channel:<id>"), counted once per event id. */
export const sourceProgress = sqliteTable("source_progress", {
  source: text("source").primaryKey(),
  applied: integer("applied").notNull().default(0),
});

export const reconciliationRuns = sqliteTable(
  "reconciliation_runs",
  {
    id: text("id").primaryKey(),
    /** The UTC day checked, YYYY-MM-DD. */
    date: text("date").notNull(),
    /** "cron" (nightly) or "api". */
    trigger: text("trigger").notNull(),
    status: text("status").notNull(),
    differences: text("differences").notNull(),
    lagging: text("lagging").notNull(),
    checked: text("checked").notNull(),
    created_at: integer("created_at").notNull(),
  },
  (t) => [index("reconciliation_runs_date").on(t.date, t.created_at)],
);
