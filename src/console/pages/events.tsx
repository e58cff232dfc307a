/** The event log of the node's subtree: orders, redemptions, stock and top-ups as they happened, newest first. */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { fmtDate, t } from "../i18n";
import { useChannelNames } from "../names";
import { Select } from "../ui";
import { PagedTable } from "./lists";

type Event = Schemas["EventLogEntry"];
const KINDS = ["", "order.", "code.", "stock.", "balance."] as const;
type Kind = (typeof KINDS)[number];

export function Events() {
  const [kind, setKind] = useState<Kind>("");
  const channelName = useChannelNames();
  const labels: Record<Kind, string> = {
    "": t("all"),
    "order.": t("orders"),
    "code.": t("redemptions"),
    "stock.": t("stock"),
    "balance.": t("balance"),
  };
  return (
    <div class="page">
      <h1>{t("eventLog")}</h1>
      <div class="toolbar">
        <Select<Kind>
          label={t("type")}
          value={kind}
          onChange={setKind}
          options={KINDS.map((k) => ({ value: k, label: labels[k] }))}
        />
      </div>
      <PagedTable<Event>
        title={t("eventLog")}
        empty="noEvents"
        deps={[kind]}
        fetch={(cursor) =>
          must(api.GET("/v1/events", { params: { query: { cursor, limit: 50, ...(kind ? { type: kind } : {}) } } }))
        }
        columns={[
          { label: t("created"), render: (e) => fmtDate(e.created_at) },
          { label: t("type"), render: (e) => e.type },
          { label: t("channel"), render: (e) => channelName(e.channel_id) },
          {
            label: t("details"),
            render: (e) =>
              e.subject_id?.startsWith("ord_") ? (
                <a href={`#/orders/${e.subject_id}`}>{e.subject_id}</a>
              ) : (
                (e.subject_id ?? "—")
              ),
          },
          {
            label: t("summary"),
            render: (e) =>
              Object.entries(e.summary)
                .filter(([, v]) => v !== null)
                .map(([k, v]) => `${k}: ${v}`)
                .join(" · "),
          },
        ]}
      />
    </div>
  );
}
