/** The node's exports of the last 24 hours: what each holds, how far it got, and its file once done. */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { downloadExport } from "../export-job";
import { fmtDate, fmtNumber, t } from "../i18n";
import { Badge, errorText, Outcome } from "../ui";
import { PagedTable } from "./lists";

type Export = Schemas["Export"];

const filterText = (f: Record<string, unknown>) =>
  Object.entries(f)
    .map(([k, v]) => `${k}: ${v}`)
    .join(" · ") || t("all");

export function Exports() {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const save = async (job: Export) => {
    try {
      await downloadExport(job);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <div class="page">
      <h1>{t("exports")}</h1>
      <p class="hint">{t("exportsHelp")}</p>
      <Outcome message={message} />
      <PagedTable<Export>
        title={t("exports")}
        empty="noExports"
        fetch={() => must(api.GET("/v1/exports"))}
        columns={[
          { label: t("created"), render: (j) => fmtDate(j.created_at) },
          { label: t("type"), render: (j) => t(j.kind === "orders" ? "orders" : "redemptions") },
          { label: t("filters"), render: (j) => filterText(j.filter) },
          { label: t("status"), render: (j) => <Badge value={j.status} /> },
          {
            label: t("rows"),
            numeric: true,
            render: (j) => (j.total === null ? fmtNumber(j.rows) : `${fmtNumber(j.rows)} / ${fmtNumber(j.total)}`),
          },
          {
            label: t("file"),
            render: (j) =>
              j.status === "done" ? (
                <button type="button" class="link" onClick={() => save(j)}>
                  {t("download")}
                </button>
              ) : (
                (j.error ?? "—")
              ),
          },
        ]}
      />
    </div>
  );
}
