/** A channel's statement (balance and commission accounts) for a date range, on screen and as CSV. */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { downloadBlob } from "../csv";
import { fmtDate, fmtMoney, t } from "../i18n";
import { useChannelList } from "../names";
import { isoDay } from "../period";
import { ErrorBox, errorText, Field, Loading, Section, Select, Table } from "../ui";

type Statement = Schemas["Statement"];
type Entry = Statement["accounts"][number]["entries"][number];

const dayStart = (d: string, plus = 0) => {
  const [y, m, dd] = d.split("-").map(Number);
  return new Date(y, m - 1, dd + plus).toISOString();
};

export function Statements() {
  const channels = useChannelList().filter(([id]) => id !== "chn_root");
  const [channel, setChannel] = useState("");
  const [from, setFrom] = useState(isoDay(new Date(Date.now() - 29 * 86_400_000)));
  const [to, setTo] = useState(isoDay(new Date()));
  const [state, setState] = useState<{ loading?: boolean; data?: Statement; error?: unknown }>({});
  const chosen = channel || channels[0]?.[0] || "";
  const query = () => ({ from: dayStart(from), to: dayStart(to, 1) });
  const show = async (e: Event) => {
    e.preventDefault();
    setState({ loading: true });
    try {
      // JSON unless format=csv: the answer's type also allows the CSV text.
      const data = await must(
        api.GET("/v1/channels/{id}/statements", { params: { path: { id: chosen }, query: query() } }),
      );
      setState({ data: data as Statement });
    } catch (error) {
      setState({ error });
    }
  };
  const csv = async () => {
    try {
      const res = await fetch(
        `/v1/channels/${chosen}/statements?${new URLSearchParams({ ...query(), format: "csv" })}`,
      );
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      downloadBlob(`statement-${chosen}-${from}-${to}.csv`, await res.blob());
    } catch (error) {
      setState({ ...state, error: errorText(error) });
    }
  };
  if (channels.length === 0) return null;
  return (
    <Section title={t("statements")}>
      <form class="toolbar" onSubmit={show}>
        <Select
          label={t("channel")}
          value={chosen}
          onChange={setChannel}
          options={channels.map(([id, name]) => ({ value: id, label: name }))}
        />
        <Field label={t("from")}>
          <input type="date" required value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t("to")}>
          <input type="date" required value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        </Field>
        <button type="submit">{t("apply")}</button>
        <button type="button" onClick={csv}>
          {t("exportCsv")}
        </button>
      </form>
      {state.loading && <Loading />}
      {state.error ? <ErrorBox error={state.error} /> : null}
      {state.data?.accounts.map((a) => (
        <div key={`${a.account}:${a.currency}`}>
          <h3>
            {a.account === "balance" ? t("balance") : t("commission")} · {fmtMoney(a.opening_balance, a.currency)} →{" "}
            {fmtMoney(a.closing_balance, a.currency)}
          </h3>
          <Table<Entry>
            caption={a.account}
            rows={a.entries}
            rowKey={(r) => `${r.transaction_id}:${r.amount}:${r.time}`}
            columns={[
              { label: t("created"), render: (r) => fmtDate(r.time) },
              { label: t("type"), render: (r) => r.type },
              { label: t("orders"), render: (r) => r.order_id ?? "—" },
              { label: t("amount"), numeric: true, render: (r) => fmtMoney(r.amount, a.currency) },
              { label: t("balance"), numeric: true, render: (r) => fmtMoney(r.running_balance, a.currency) },
            ]}
          />
        </div>
      ))}
      {state.data && state.data.accounts.length === 0 && <p class="empty">{t("genericEmpty")}</p>}
    </Section>
  );
}
