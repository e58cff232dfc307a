/** Orders of the node's subtree: filters, cursor pages, a CSV export of the filtered rows, detail and refund. */
import { useState } from "preact/hooks";
import { api, idem, must, type Schemas } from "../api";
import { ExportButton } from "../export-job";
import { fmtDate, fmtMoney, fmtNumber, t } from "../i18n";
import { useChannelNames } from "../names";
import { can } from "../roles";
import {
  Badge,
  Empty,
  ErrorBox,
  errorText,
  Field,
  Loading,
  Outcome,
  Pager,
  Section,
  Select,
  statusLabel,
  Table,
  useAsync,
  usePaged,
} from "../ui";

type Order = Schemas["Order"];
const STATUSES = ["", "fulfilled", "pending_payment", "processing", "failed", "refunded", "cancelled"] as const;
type Status = (typeof STATUSES)[number];
interface Filters {
  status: Status;
  channel_id: string;
  product_id: string;
  customer_ref: string;
  from: string;
  to: string;
}
const EMPTY: Filters = { status: "", channel_id: "", product_id: "", customer_ref: "", from: "", to: "" };

function query(f: Filters) {
  const day = (d: string, end = false) => {
    const [y, m, dd] = d.split("-").map(Number);
    return new Date(y, m - 1, dd + (end ? 1 : 0)).toISOString();
  };
  return {
    ...(f.status ? { status: f.status } : {}),
    ...(f.channel_id ? { channel_id: f.channel_id } : {}),
    ...(f.product_id ? { product_id: f.product_id } : {}),
    ...(f.customer_ref ? { customer_ref: f.customer_ref } : {}),
    ...(f.from ? { from: day(f.from) } : {}),
    ...(f.to ? { to: day(f.to, true) } : {}),
  };
}

const fetchOrders = (f: Filters, cursor?: string, limit = 20) =>
  must(api.GET("/v1/orders", { params: { query: { limit, cursor, ...query(f) } } }));

export function Orders() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const list = usePaged((cursor) => fetchOrders(filters, cursor), [JSON.stringify(filters)]);
  const channelName = useChannelNames();
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  return (
    <div class="page">
      <header class="page-head">
        <h1>{t("orders")}</h1>
        <ExportButton request={() => ({ kind: "orders", filter: query(filters) })} />
      </header>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <Select<Status>
          label={t("status")}
          value={draft.status}
          onChange={(v) => setDraft({ ...draft, status: v })}
          options={STATUSES.map((s) => ({ value: s, label: s === "" ? t("all") : statusLabel(s) }))}
        />
        <Field label={t("channel")}>
          <input value={draft.channel_id} placeholder="chn_…" onInput={set("channel_id")} />
        </Field>
        <Field label={t("product")}>
          <input value={draft.product_id} placeholder="prd_…" onInput={set("product_id")} />
        </Field>
        <Field label={t("customer")}>
          <input value={draft.customer_ref} onInput={set("customer_ref")} />
        </Field>
        <Field label={t("from")}>
          <input type="date" value={draft.from} onInput={set("from")} />
        </Field>
        <Field label={t("to")}>
          <input type="date" value={draft.to} onInput={set("to")} />
        </Field>
        <button type="submit">{t("filter")}</button>
      </form>
      {list.error ? <ErrorBox error={list.error} onRetry={list.reload} /> : null}
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.rows.length === 0 && <Empty text={t("noOrders")} />}
      {list.rows.length > 0 && (
        <>
          <Table<Order>
            caption={t("orders")}
            rows={list.rows}
            rowKey={(o) => o.id}
            columns={[
              { label: "ID", render: (o) => <a href={`#/orders/${o.id}`}>{o.id}</a> },
              { label: t("created"), render: (o) => fmtDate(o.created_at) },
              { label: t("channel"), render: (o) => channelName(o.channel_id) },
              { label: t("status"), render: (o) => <Badge value={o.status} /> },
              { label: t("amount"), numeric: true, render: (o) => fmtMoney(o.total_amount, o.currency) },
            ]}
          />
          <Pager paged={list} />
        </>
      )}
    </div>
  );
}

export function OrderDetail({ id, role }: { id: string; role: string }) {
  const channelName = useChannelNames();
  const order = useAsync(() => must(api.GET("/v1/orders/{id}", { params: { path: { id } } })), [id]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  if (order.error) return <ErrorBox error={order.error} onRetry={order.reload} />;
  if (!order.data) return <Loading />;
  const o = order.data;
  const refund = async () => {
    if (!confirm(t("refundConfirm", { amount: fmtMoney(o.total_amount, o.currency) }))) return;
    try {
      await must(
        api.POST("/v1/orders/{id}/refund", {
          params: { path: { id }, header: { "idempotency-key": idem() } },
          body: { reason: "console refund" },
        }),
      );
      setMessage({ ok: true, text: t("refunded") });
      order.reload();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <div class="page">
      <header class="page-head">
        <h1>{t("orderDetail", { id: o.id })}</h1>
        <Badge value={o.status} />
        {can(role, "refunds:write") && o.status === "fulfilled" && (
          <button type="button" class="danger" onClick={refund}>
            {t("refund")}
          </button>
        )}
      </header>
      <Outcome message={message} />
      <dl class="facts">
        <dt>{t("created")}</dt>
        <dd>{fmtDate(o.created_at)}</dd>
        <dt>{t("channel")}</dt>
        <dd>{channelName(o.channel_id)}</dd>
        <dt>{t("customerRef")}</dt>
        <dd>{o.customer_ref ?? "—"}</dd>
        <dt>{t("amount")}</dt>
        <dd>{fmtMoney(o.total_amount, o.currency)}</dd>
      </dl>
      <Section title={t("items")}>
        <Table
          caption={t("items")}
          rows={o.items}
          rowKey={(i) => i.product_id}
          columns={[
            { label: t("product"), render: (i) => <a href={`#/products/${i.product_id}`}>{i.product_id}</a> },
            { label: t("quantity"), numeric: true, render: (i) => fmtNumber(i.quantity) },
            { label: t("price"), numeric: true, render: (i) => fmtMoney(i.unit_price, o.currency) },
            { label: t("amount"), numeric: true, render: (i) => fmtMoney(i.amount, o.currency) },
          ]}
        />
      </Section>
    </div>
  );
}
