/** Webhook endpoints of the subtree, and an endpoint's deliveries with their attempts, replayable one by one. */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { fmtDate, fmtNumber, t } from "../i18n";
import { can } from "../roles";
import { Badge, errorText, Outcome } from "../ui";
import { PagedTable } from "./lists";
import { NewWebhook } from "./webhook-new";

type Delivery = Schemas["WebhookDelivery"];
type Endpoint = Schemas["WebhookEndpoint"];

export function Webhooks({ role, id }: { role: string; id?: string }) {
  if (id) return <Deliveries webhookId={id} canReplay={can(role, "webhooks:write")} />;
  return <Endpoints canWrite={can(role, "webhooks:write")} />;
}

function Endpoints({ canWrite }: { canWrite: boolean }) {
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  // A disabled endpoint receives nothing new; enabling it again resumes deliveries of later events.
  const setStatus = async (w: Endpoint, status: "active" | "disabled") => {
    setMessage(null);
    try {
      await must(api.PATCH("/v1/webhooks/{id}", { params: { path: { id: w.id } }, body: { status } }));
      setMessage({ ok: true, text: `${w.url}: ${t(status === "active" ? "status_active" : "status_disabled")}` });
      setTick((n) => n + 1);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <div class="page">
      <h1>{t("webhooks")}</h1>
      {canWrite && <NewWebhook onDone={() => setTick((n) => n + 1)} />}
      <Outcome message={message} />
      <PagedTable<Endpoint>
        title={t("webhooks")}
        empty="noWebhooks"
        deps={[tick]}
        fetch={(cursor) => must(api.GET("/v1/webhooks", { params: { query: { cursor, limit: 20 } } }))}
        columns={[
          { label: t("url"), render: (w) => <a href={`#/webhooks/${w.id}`}>{w.url}</a> },
          { label: t("events"), render: (w) => w.events.join(", ") },
          { label: t("status"), render: (w) => <Badge value={w.status} /> },
          { label: t("created"), render: (w) => fmtDate(w.created_at) },
          ...(canWrite
            ? [
                {
                  label: t("actions"),
                  render: (w: Endpoint) => {
                    const next = w.status === "active" ? "disabled" : "active";
                    const label = t(next === "disabled" ? "disable" : "enable");
                    return (
                      <button type="button" onClick={() => setStatus(w, next)} aria-label={`${label} ${w.url}`}>
                        {label}
                      </button>
                    );
                  },
                },
              ]
            : []),
        ]}
      />
    </div>
  );
}

function Deliveries({ webhookId, canReplay }: { webhookId: string; canReplay: boolean }) {
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const replay = async (d: Delivery) => {
    try {
      await must(
        api.POST("/v1/webhooks/{id}/deliveries/{delivery_id}/replay", {
          params: { path: { id: webhookId, delivery_id: d.id } },
        }),
      );
      setMessage({ ok: true, text: t("replayQueued") });
      setTick((n) => n + 1);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <div class="page">
      <h1>{t("deliveries")}</h1>
      <p>
        <a href="#/webhooks">{t("webhooks")}</a>
      </p>
      <Outcome message={message} />
      <PagedTable<Delivery>
        title={t("deliveries")}
        empty="noDeliveries"
        deps={[tick]}
        fetch={(cursor) =>
          must(
            api.GET("/v1/webhooks/{id}/deliveries", {
              params: { path: { id: webhookId }, query: { cursor, limit: 20 } },
            }),
          )
        }
        columns={[
          { label: t("created"), render: (d) => fmtDate(d.created_at) },
          { label: t("events"), render: (d) => d.event_type },
          { label: t("status"), render: (d) => <Badge value={d.status} /> },
          { label: t("attempts"), numeric: true, render: (d) => fmtNumber(d.attempts) },
          { label: t("lastAnswer"), render: (d) => d.last_status_code ?? d.last_error ?? "—" },
          ...(canReplay
            ? [
                {
                  label: t("actions"),
                  render: (d: Delivery) => (
                    <button type="button" onClick={() => replay(d)}>
                      {t("replay")}
                    </button>
                  ),
                },
              ]
            : []),
        ]}
      />
    </div>
  );
}
