/**
 * Trial-code campaigns of the node's subtree: the list (status, window, claims against the budget) and a
 * campaign's funnel (claims → redemptions → conversions, cost, cost per acquisition, ROI) per day and per channel,
 * with pause / resume for the merchant's staff. Campaigns are created through the API (docs/campaigns.md).
 */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { fmtDate, fmtMoney, fmtNumber, fmtPercent, t } from "../i18n";
import { useChannelNames } from "../names";
import { can } from "../roles";
import { Badge, Empty, ErrorBox, errorText, Loading, Outcome, Section, Table, useAsync } from "../ui";
import { PagedTable } from "./lists";

type Campaign = Schemas["Campaign"];
type Funnel = NonNullable<Campaign["funnel"]>;

export function Campaigns({ role, id }: { role: string; id?: string }) {
  if (id) return <CampaignDetail id={id} canWrite={can(role, "products:write")} />;
  return (
    <div class="page">
      <h1>{t("campaigns")}</h1>
      <p class="hint">{t("campaignsHelp")}</p>
      <PagedTable<Campaign>
        title={t("campaigns")}
        empty="noCampaigns"
        fetch={(cursor) => must(api.GET("/v1/campaigns", { params: { query: { cursor, limit: 20 } } }))}
        columns={[
          { label: t("name"), render: (c) => <a href={`#/campaigns/${c.id}`}>{c.name}</a> },
          { label: t("status"), render: (c) => <Badge value={c.status} /> },
          { label: t("claimWindow"), render: (c) => `${fmtDate(c.starts_at)} – ${fmtDate(c.ends_at)}` },
          { label: t("budget"), numeric: true, render: (c) => fmtNumber(c.max_claims) },
          { label: t("faceValue"), numeric: true, render: (c) => fmtMoney(c.face_value, c.currency) },
        ]}
      />
    </div>
  );
}

function FunnelCards({ f, currency }: { f: Funnel; currency: string }) {
  const cards: [string, string][] = [
    [t("claims"), fmtNumber(f.claims)],
    [t("kpiRedemptions"), fmtNumber(f.redemptions)],
    [t("claimToRedeem"), fmtPercent(f.claim_to_redeem_rate)],
    [
      t("medianToRedeem"),
      f.median_time_to_redeem_seconds === null
        ? "—"
        : `${fmtNumber(Math.round(f.median_time_to_redeem_seconds / 60))} min`,
    ],
    [t("conversions"), fmtNumber(f.conversions)],
    [t("campaignCost"), fmtMoney(f.cost, currency)],
    [t("costPerAcquisition"), f.cost_per_acquisition === null ? "—" : fmtMoney(f.cost_per_acquisition, currency)],
    [t("roi"), fmtPercent(f.roi)],
  ];
  return (
    <ul class="kpis" aria-label={t("funnel")}>
      {cards.map(([label, value]) => (
        <li key={label} class="kpi">
          <span class="kpi-label">{label}</span>
          <strong class="kpi-value">{value}</strong>
        </li>
      ))}
    </ul>
  );
}

function CampaignDetail({ id, canWrite }: { id: string; canWrite: boolean }) {
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const state = useAsync(() => must(api.GET("/v1/campaigns/{id}", { params: { path: { id } } })), [id, tick]);
  const channelName = useChannelNames();
  if (state.error) return <ErrorBox error={state.error} onRetry={() => setTick((n) => n + 1)} />;
  if (!state.data) return <Loading />;
  const c = state.data;
  const setStatus = async (status: "active" | "paused") => {
    try {
      await must(api.PATCH("/v1/campaigns/{id}", { params: { path: { id } }, body: { status } }));
      setMessage({ ok: true, text: t(status === "active" ? "status_active" : "status_paused") });
      setTick((n) => n + 1);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  const f = c.funnel;
  return (
    <div class="page">
      <header class="page-head">
        <h1>{c.name}</h1>
        {canWrite && c.status !== "archived" && (
          <button type="button" onClick={() => setStatus(c.status === "active" ? "paused" : "active")}>
            {t(c.status === "active" ? "pause" : "resume")}
          </button>
        )}
      </header>
      <p>
        <a href="#/campaigns">{t("campaigns")}</a> · <Badge value={c.status} /> · {fmtDate(c.starts_at)} –{" "}
        {fmtDate(c.ends_at)} · {t("validDays", { count: fmtNumber(c.validity_days) })}
      </p>
      <Outcome message={message} />
      {f && <FunnelCards f={f} currency={c.currency} />}
      {!f || f.claims === 0 ? (
        <Empty text={t("noClaims")} />
      ) : (
        <>
          <Section title={t("byDay")}>
            <Table<NonNullable<Campaign["by_day"]>[number]>
              caption={t("byDay")}
              rows={c.by_day ?? []}
              rowKey={(r) => r.day}
              columns={[
                { label: t("day"), render: (r) => fmtDate(r.day, false) },
                { label: t("claims"), numeric: true, render: (r) => fmtNumber(r.claims) },
                { label: t("kpiRedemptions"), numeric: true, render: (r) => fmtNumber(r.redemptions) },
                { label: t("conversions"), numeric: true, render: (r) => fmtNumber(r.conversions) },
                { label: t("campaignCost"), numeric: true, render: (r) => fmtMoney(r.cost, c.currency) },
              ]}
            />
          </Section>
          <Section title={t("byChannel")}>
            <Table<NonNullable<Campaign["by_channel"]>[number]>
              caption={t("byChannel")}
              rows={c.by_channel ?? []}
              rowKey={(r) => r.channel_id}
              columns={[
                { label: t("channel"), render: (r) => channelName(r.channel_id) },
                { label: t("claims"), numeric: true, render: (r) => fmtNumber(r.claims) },
                { label: t("kpiRedemptions"), numeric: true, render: (r) => fmtNumber(r.redemptions) },
                { label: t("conversions"), numeric: true, render: (r) => fmtNumber(r.conversions) },
              ]}
            />
          </Section>
        </>
      )}
    </div>
  );
}
