/** The redemption log (succeeded and failed attempts with their reason), with reversal inside the window. */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { ExportButton } from "../export-job";
import { fmtDate, t } from "../i18n";
import { useChannelNames } from "../names";
import { can } from "../roles";
import { Badge, Empty, ErrorBox, errorText, Loading, Outcome, Pager, Select, Table, usePaged } from "../ui";

type Entry = Schemas["RedemptionLogEntry"];
type LogOutcome = "succeeded" | "failed";

export function Redemptions({ role }: { role: string }) {
  const [outcome, setOutcome] = useState<LogOutcome>("succeeded");
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const channelName = useChannelNames();
  const list = usePaged(
    (cursor) => must(api.GET("/v1/redemptions", { params: { query: { outcome, cursor, limit: 20 } } })),
    [outcome, tick],
  );
  const reverse = async (r: Entry) => {
    try {
      await must(api.POST("/v1/redemptions/{id}/reverse", { params: { path: { id: r.id } } }));
      setMessage({ ok: true, text: `${t("reversed")}: …${r.last4}` });
      setTick((n) => n + 1);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <div class="page">
      <header class="page-head">
        <h1>{t("redemptions")}</h1>
        <ExportButton request={() => ({ kind: "redemptions", filter: { outcome } })} />
        {can(role, "redemptions:write") && (
          <a class="button primary" href="#/redeem">
            {t("redeem")}
          </a>
        )}
      </header>
      <div class="toolbar">
        <Select<LogOutcome>
          label={t("status")}
          value={outcome}
          onChange={setOutcome}
          options={[
            { value: "succeeded", label: t("succeeded") },
            { value: "failed", label: t("failed") },
          ]}
        />
      </div>
      <Outcome message={message} />
      {list.error ? <ErrorBox error={list.error} onRetry={list.reload} /> : null}
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.rows.length === 0 && <Empty text={t("noRedemptions")} />}
      {list.rows.length > 0 && (
        <>
          <Table<Entry>
            caption={t("redemptions")}
            rows={list.rows}
            rowKey={(r) => r.id}
            columns={[
              { label: t("created"), render: (r) => fmtDate(r.at) },
              { label: t("status"), render: (r) => <Badge value={r.outcome} /> },
              outcome === "failed"
                ? { label: t("reason"), render: (r) => r.reason ?? "—" }
                : { label: t("last4"), render: (r) => (r.last4 ? `…${r.last4}` : "—") },
              { label: t("product"), render: (r) => r.product_id ?? "—" },
              { label: t("channel"), render: (r) => channelName(r.channel_id) },
              ...(outcome === "succeeded" && can(role, "redemptions:write")
                ? [
                    {
                      label: t("actions"),
                      render: (r: Entry) =>
                        r.outcome === "redeemed" ? (
                          <button type="button" onClick={() => reverse(r)}>
                            {t("reverse")}
                          </button>
                        ) : (
                          fmtDate(r.reversed_at)
                        ),
                    },
                  ]
                : []),
            ]}
          />
          <Pager paged={list} />
        </>
      )}
    </div>
  );
}
