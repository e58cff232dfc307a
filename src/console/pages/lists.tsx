/** The read-mostly pages: finance (payouts, reconciliation runs), webhooks, the audit log and users. */
import type { ComponentChildren } from "preact";
import { api, must, type Schemas } from "../api";
import { fmtDate, fmtMoney, fmtNumber, type Key, t } from "../i18n";
import { Badge, type Column, Empty, ErrorBox, Loading, type Page, Pager, Section, Table, usePaged } from "../ui";
import { Statements } from "./statements";

/** A titled, paged table with its loading, error and empty states. */
export function PagedTable<R extends { id: string }>(props: {
  title: string;
  empty: Key;
  fetch: (cursor: string | undefined) => Promise<Page<R>>;
  columns: Column<R>[];
  deps?: unknown[];
}) {
  const list = usePaged(props.fetch, props.deps ?? []);
  let body: ComponentChildren;
  if (list.error) body = <ErrorBox error={list.error} onRetry={list.reload} />;
  else if (list.loading && !list.data) body = <Loading />;
  else if (list.rows.length === 0) body = <Empty text={t(props.empty)} />;
  else
    body = (
      <>
        <Table<R> caption={props.title} rows={list.rows} rowKey={(r) => r.id} columns={props.columns} />
        <Pager paged={list} />
      </>
    );
  return <Section title={props.title}>{body}</Section>;
}

export function Finance({ root }: { root: boolean }) {
  return (
    <div class="page">
      <h1>{t("finance")}</h1>
      {root && <Reconciliation />}
      <Statements />
      <PagedTable<Schemas["Payout"]>
        title={t("payouts")}
        empty="noPayouts"
        fetch={(cursor) => must(api.GET("/v1/payouts", { params: { query: { cursor, limit: 20 } } }))}
        columns={[
          { label: t("created"), render: (p) => fmtDate(p.created_at) },
          { label: t("channel"), render: (p) => p.channel_id },
          { label: t("amount"), numeric: true, render: (p) => fmtMoney(p.amount, p.currency) },
          { label: t("status"), render: (p) => <Badge value={p.status} /> },
        ]}
      />
    </div>
  );
}

/** Reconciliation runs are the merchant's: a channel manager's console does not offer them. */
function Reconciliation() {
  return (
    <PagedTable<Schemas["Reconciliation"]>
      title={t("reconciliation")}
      empty="noRuns"
      fetch={(cursor) => must(api.GET("/v1/reconciliation/runs", { params: { query: { cursor, limit: 10 } } }))}
      columns={[
        { label: t("created"), render: (r) => fmtDate(r.created_at) },
        { label: "Date", render: (r) => r.date },
        { label: t("status"), render: (r) => <Badge value={r.status} /> },
        {
          label: t("differences"),
          render: (r) =>
            r.differences.length === 0 ? "0" : r.differences.map((d) => `${d.kind} ${d.subject}`).join("; "),
        },
      ]}
    />
  );
}

export function Audit() {
  return (
    <div class="page">
      <h1>{t("audit")}</h1>
      <PagedTable<Schemas["AuditEntry"]>
        title={t("audit")}
        empty="noAudit"
        fetch={(cursor) => must(api.GET("/v1/audit", { params: { query: { cursor, limit: 50 } } }))}
        columns={[
          { label: t("created"), render: (a) => fmtDate(a.at) },
          { label: t("actor"), render: (a) => a.actor_key_id },
          { label: t("action"), render: (a) => a.action },
          { label: t("resource"), render: (a) => a.resource_id ?? "—" },
          { label: t("status"), numeric: true, render: (a) => fmtNumber(a.status) },
        ]}
      />
    </div>
  );
}
