/**
 * An export of what a page lists, with the page's filters, as a server job (POST /v1/exports): a progress bar
 * while the queue writes it, then the file downloads. The file's bytes are saved as they come (with the BOM
 * that lets Excel open Chinese correctly); the job also stays on the Exports page for 24 hours.
 */
import { useState } from "preact/hooks";
import { api, ConsoleError, must, type Schemas } from "./api";
import { downloadBlob } from "./csv";
import { fmtNumber, t } from "./i18n";
import { errorText } from "./ui";

type Export = Schemas["Export"];
type ExportCreate = Schemas["ExportCreate"];

/** Downloads a finished export's file. */
export async function downloadExport(job: Export): Promise<void> {
  const res = await fetch(`/v1/exports/${job.id}/file`, { credentials: "same-origin" });
  if (!res.ok) throw new ConsoleError(res.status, "http_error", `HTTP ${res.status}`);
  downloadBlob(`${job.kind}-${job.created_at.slice(0, 10)}.csv`, await res.blob());
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the job, follows it until done or failed (reporting each state), and returns the last state. */
export async function runExport(request: ExportCreate, onState: (job: Export) => void): Promise<Export> {
  let job = await must(api.POST("/v1/exports", { body: request }));
  onState(job);
  while (job.status === "queued" || job.status === "running") {
    await wait(400);
    job = await must(api.GET("/v1/exports/{id}", { params: { path: { id: job.id } } }));
    onState(job);
  }
  return job;
}

export function ExportButton({ request }: { request: () => ExportCreate }) {
  const [job, setJob] = useState<Export | null>(null);
  const [error, setError] = useState<string | null>(null);
  const busy = job !== null && (job.status === "queued" || job.status === "running");
  const start = async () => {
    setError(null);
    try {
      const last = await runExport(request(), setJob);
      if (last.status === "done") await downloadExport(last);
      else setError(last.error ?? t("exportFailed"));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setJob(null);
    }
  };
  return (
    <div class="export-job">
      <button type="button" onClick={start} disabled={busy}>
        {busy ? t("exporting", { count: fmtNumber(job?.rows ?? 0) }) : t("exportCsv")}
      </button>
      {busy && (
        <progress
          aria-label={t("exportProgress")}
          max={job?.total ?? undefined}
          value={job?.total === null ? undefined : (job?.rows ?? 0)}
        />
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
