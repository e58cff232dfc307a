/**
 * 数据驾驶舱: the period's KPIs, the trend, sales per channel (drill into a child, back up the trail), hot
 * products and low-stock alerts, for the signed-in node's subtree. Live: re-read on every "changed".
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ROOT_CHANNEL_ID } from "../../domain/ids";
import { api, must, type Schemas } from "../api";
import { fmtDate, fmtMoney, fmtNumber, fmtPercent, t } from "../i18n";
import { useLive } from "../live";
import { isoDay, type PeriodId, periodOf } from "../period";
import { Empty, ErrorBox, Field, Loading, Section, Select, Table, useAsync } from "../ui";

type Analytics = Schemas["Analytics"];
type Crumb = { id: string | undefined; name: string };

export function Cockpit() {
  const [periodId, setPeriodId] = useState<PeriodId>("today");
  const [custom, setCustom] = useState({ from: isoDay(new Date(Date.now() - 6 * 86_400_000)), to: isoDay(new Date()) });
  const [trail, setTrail] = useState<Crumb[]>([{ id: undefined, name: "" }]);
  const [tick, setTick] = useState(0);
  const here = trail[trail.length - 1];
  const period = periodOf(periodId, new Date(), custom);
  const data = useAsync(
    () =>
      must(
        api.GET("/v1/analytics", {
          params: {
            query: {
              from: period.from.toISOString(),
              to: period.to.toISOString(),
              interval: period.interval,
              tz_offset_minutes: -new Date().getTimezoneOffset(),
              ...(here.id ? { channel_id: here.id } : {}),
            },
          },
        }),
      ),
    [periodId, custom.from, custom.to, here.id, tick],
  );
  const live = useLive(() => setTick((n) => n + 1));
  const a = data.data;
  // The trail's names come from the answers: the signed-in node's own name is its "self" row.
  const nameOf = (i: number) => trail[i].name || (a?.channels.find((c) => c.self)?.name ?? "");

  return (
    <div class="page">
      <header class="page-head">
        <h1>{t("cockpit")}</h1>
        <span class={`live ${live ? "on" : ""}`} role="status">
          {live ? t("live") : t("liveOff")}
          {a && ` · ${t("updatedAt", { time: new Date().toLocaleTimeString() })}`}
        </span>
      </header>
      <div class="toolbar">
        <Select<PeriodId>
          label={t("period")}
          value={periodId}
          onChange={setPeriodId}
          options={[
            { value: "today", label: t("today") },
            { value: "yesterday", label: t("yesterday") },
            { value: "7d", label: t("last7") },
            { value: "30d", label: t("last30") },
            { value: "custom", label: t("custom") },
          ]}
        />
        {periodId === "custom" && (
          <>
            <Field label={t("from")}>
              <input
                type="date"
                value={custom.from}
                onChange={(e) => setCustom({ ...custom, from: (e.target as HTMLInputElement).value })}
              />
            </Field>
            <Field label={t("to")}>
              <input
                type="date"
                value={custom.to}
                onChange={(e) => setCustom({ ...custom, to: (e.target as HTMLInputElement).value })}
              />
            </Field>
          </>
        )}
        {trail.length > 1 && (
          <button type="button" onClick={() => setTrail(trail.slice(0, -1))}>
            {t("back", { name: nameOf(trail.length - 2) })}
          </button>
        )}
      </div>
      {data.error && !a ? <ErrorBox error={data.error} onRetry={data.reload} /> : null}
      {!a && !data.error ? <Loading /> : null}
      {a && (
        <>
          <Kpis a={a} />
          <p class="hint">{t("revenueNote")}</p>
          <Section title={t("trend")}>
            {a.series.length === 0 ? <Empty text={t("noSales")} /> : <Trend a={a} />}
          </Section>
          <div class="grid2">
            <Section title={t("salesByChannel")}>
              <Table
                caption={t("salesByChannel")}
                rows={a.channels}
                rowKey={(r) => r.channel_id}
                columns={[
                  {
                    label: t("channel"),
                    render: (r) =>
                      r.self ? (
                        t("ownSales", { name: r.name })
                      ) : (
                        <button
                          type="button"
                          class="link"
                          onClick={() => setTrail([...trail, { id: r.channel_id, name: r.name }])}
                          aria-label={t("drill", { name: r.name })}
                        >
                          {r.name}
                        </button>
                      ),
                  },
                  { label: t("kpiOrders"), numeric: true, render: (r) => fmtNumber(r.orders) },
                  { label: t("kpiRevenue"), numeric: true, render: (r) => fmtMoney(r.revenue, a.currency) },
                  { label: t("kpiRedemptions"), numeric: true, render: (r) => fmtNumber(r.redemptions) },
                ]}
              />
            </Section>
            <Section title={t("hotProducts")}>
              {a.products.length === 0 ? (
                <Empty text={t("noSales")} />
              ) : (
                <Table
                  caption={t("hotProducts")}
                  rows={a.products}
                  rowKey={(r) => r.product_id}
                  columns={[
                    { label: t("product"), render: (r) => <a href={`#/products/${r.product_id}`}>{r.name}</a> },
                    { label: t("kpiUnits"), numeric: true, render: (r) => fmtNumber(r.units) },
                    { label: t("kpiRevenue"), numeric: true, render: (r) => fmtMoney(r.revenue, a.currency) },
                    { label: t("kpiRedemptions"), numeric: true, render: (r) => fmtNumber(r.redemptions) },
                  ]}
                />
              )}
            </Section>
          </div>
          <Section title={t("alerts")}>
            {a.alerts.length === 0 ? (
              <Empty text={t("noAlerts")} />
            ) : (
              <ul class="alerts">
                {a.alerts.map((x) => (
                  <li key={`${x.product_id}:${x.channel_id}`}>
                    {t("lowStock", { product: x.product_name, channel: x.channel_name, quota: fmtNumber(x.quota) })} ·{" "}
                    {fmtDate(x.at)}
                  </li>
                ))}
              </ul>
            )}
          </Section>
        </>
      )}
    </div>
  );
}

function Kpis({ a }: { a: Analytics }) {
  const k = a.totals;
  const cards: [string, string, string?][] = [
    [t("kpiOrders"), fmtNumber(k.orders)],
    [t("kpiUnits"), fmtNumber(k.units)],
    [t("kpiRevenue"), fmtMoney(k.revenue, a.currency), `${t("kpiNet")}: ${fmtMoney(k.net_revenue, a.currency)}`],
    [t("kpiRedemptions"), fmtNumber(k.redemptions)],
    [t("kpiRate"), fmtPercent(k.redemption_rate)],
    [t("kpiRefunds"), fmtNumber(k.refunds), fmtMoney(k.refund_amount, a.currency)],
    // The merchant keeps what commissions leave; a channel's profit is the commission its subtree earned.
    a.channel_id === ROOT_CHANNEL_ID
      ? [
          t("kpiMerchantShare"),
          fmtMoney(k.merchant_share, a.currency),
          `${t("kpiCommissionPaid")}: ${fmtMoney(k.commission, a.currency)}`,
        ]
      : [t("kpiCommission"), fmtMoney(k.commission, a.currency)],
  ];
  return (
    <ul class="kpis" aria-label={t("cockpit")}>
      {cards.map(([label, value, sub]) => (
        <li key={label} class="kpi">
          <span class="kpi-label">{label}</span>
          <strong class="kpi-value" data-kpi={label}>
            {value}
          </strong>
          {sub && <span class="kpi-sub">{sub}</span>}
        </li>
      ))}
    </ul>
  );
}

function Trend({ a }: { a: Analytics }) {
  const el = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let cleanup: (() => void) | undefined;
    const fmt =
      a.interval === "hour" ? { hour: "2-digit" as const } : { month: "numeric" as const, day: "numeric" as const };
    import("../charts").then(
      ({ drawTrend }) => {
        if (!el.current) return;
        cleanup = drawTrend(el.current, {
          labels: a.series.map((p) => new Date(p.bucket).toLocaleString(document.documentElement.lang, fmt)),
          orders: a.series.map((p) => p.orders),
          redemptions: a.series.map((p) => p.redemptions),
          revenueYuan: a.series.map((p) => p.revenue / 100),
          names: { orders: t("kpiOrders"), redemptions: t("kpiRedemptions"), revenue: t("kpiRevenue") },
          formatMoney: (y) => fmtMoney(y * 100, a.currency),
        });
      },
      () => setFailed(true),
    );
    return () => cleanup?.();
  }, [a]);
  if (failed) return <ErrorBox error={t("networkError")} />;
  return <div ref={el} class="chart" role="img" aria-label={t("trend")} />;
}
