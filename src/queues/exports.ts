/**
 * Consumer of the `voucher-exports` queue: builds an export's CSV part by part. Each message continues the job
 * from what D1 says it has done (parts written, list cursor), writes up to PARTS_PER_MESSAGE parts, then sends
 * itself on; every part commits with the job's progress in one transaction guarded by the part number, so a
 * redelivered, duplicated or crashed message neither skips nor repeats a row.
 */

import { type ExportJob, failExport, getExport, startExport, writePart } from "../db/exports";
import { countOrders, listOrders } from "../db/orders";
import { countRedemptionLog } from "../db/redemptions";
import { csvLines, orderCells, redemptionCells } from "../domain/export-csv";
import { type RedemptionLogQuery, redemptionLog } from "../lib/redemption-log";

export interface ExportMessage {
  export_id: string;
}

/** Rows per part (one D1 page and one stored row) and parts per message (a message's work stays short). */
export const PART_ROWS = 2_000;
const PARTS_PER_MESSAGE = 5;
const MAX_ATTEMPTS = 5;

// biome-ignore lint/suspicious/noExplicitAny: the filter was validated by the route's schema before it was stored
type Filter = Record<string, any>;
const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);

/** The count the filter matches now (the job's total). */
function count(db: D1Database, job: ExportJob, f: Filter): Promise<number> {
  if (job.kind === "orders") return countOrders(db, job.scope_path, { ...f, from: ms(f.from), to: ms(f.to) });
  return countRedemptionLog(db, job.scope_path, f.outcome === "failed", { ...f, from: ms(f.from), to: ms(f.to) });
}

/** The next page after `cursor` as CSV lines, and the cursor after it (null when it was the last). */
async function page(db: D1Database, job: ExportJob, f: Filter, cursor: string | null) {
  const q = { ...f, cursor: cursor ?? undefined, limit: PART_ROWS };
  const rows =
    job.kind === "orders"
      ? (await listOrders(db, job.scope_path, { ...q, from: ms(f.from), to: ms(f.to) })).map((o) => ({
          id: o.id,
          cells: orderCells(o),
        }))
      : (await redemptionLog(db, job.scope_path, q as RedemptionLogQuery)).map((r) => ({
          id: r.id,
          cells: redemptionCells(r),
        }));
  const data = rows.slice(0, PART_ROWS);
  return {
    body: csvLines(data.map((r) => r.cells)),
    rows: data.length,
    next: rows.length > PART_ROWS ? data[data.length - 1].id : null,
  };
}

/** Advances one job by up to PARTS_PER_MESSAGE parts; true when it should continue in another message. */
async function advance(env: Env, id: string): Promise<boolean> {
  let job = await getExport(env.DB, id);
  if (!job || (job.status !== "queued" && job.status !== "running")) return false;
  const filter = JSON.parse(job.filter) as Filter;
  if (job.status === "queued") {
    const total = await count(env.DB, job, filter);
    if (!(await startExport(env.DB, id, total, Date.now()))) return false; // another delivery started it
    job = { ...job, status: "running", total };
  }
  for (let i = 0; i < PARTS_PER_MESSAGE; i++) {
    const p = await page(env.DB, job, filter, job.cursor);
    const done = p.next === null;
    if (!(await writePart(env.DB, job, { ...p, cursor: p.next, done, now: Date.now() }))) return false;
    if (done) return false;
    job = { ...job, parts: job.parts + 1, rows: job.rows + p.rows, cursor: p.next };
  }
  return true;
}

export async function handleExports(batch: MessageBatch<ExportMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const id = message.body?.export_id;
    try {
      if (typeof id === "string" && (await advance(env, id))) await env.EXPORTS.send({ export_id: id });
      message.ack();
    } catch (err) {
      const error = err instanceof Error ? err.message.slice(0, 200) : "unknown";
      console.error(JSON.stringify({ level: "error", at: "exports", export_id: id, error }));
      if (message.attempts >= MAX_ATTEMPTS && typeof id === "string") {
        await failExport(env.DB, id, "the export could not be built; ask for it again", Date.now());
        message.ack();
      } else message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    }
  }
}
