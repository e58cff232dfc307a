/** One channel: status (suspend / resume), balance and top-up, and its API keys (a new key is shown once). */
import { useState } from "preact/hooks";
import { api, idem, must, type Schemas } from "../api";
import { fmtDate, fmtMoney, parseMoney, t } from "../i18n";
import { can } from "../roles";
import { Badge, ErrorBox, errorText, Field, Loading, Outcome, Section, Table, useAsync } from "../ui";
import { PoolEditor } from "./channel-pool";

type ApiKey = Schemas["ApiKey"];

export function ChannelDetail({ id, role, ownChannelId }: { id: string; role: string; ownChannelId: string | null }) {
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const channel = useAsync(() => must(api.GET("/v1/channels/{id}", { params: { path: { id } } })), [id, tick]);
  const balance = useAsync(
    () => must(api.GET("/v1/channels/{id}/balance", { params: { path: { id }, query: { limit: 10 } } })),
    [id, tick],
  );
  if (channel.error) return <ErrorBox error={channel.error} onRetry={channel.reload} />;
  if (!channel.data) return <Loading />;
  const c = channel.data;
  // A channel's money and status are managed by its parent, never by itself.
  const manages = can(role, "channels:write") && c.id !== ownChannelId && c.depth > 0;
  const act = async (work: () => Promise<unknown>, ok: string) => {
    setMessage(null);
    try {
      await work();
      setMessage({ ok: true, text: ok });
      setTick((n) => n + 1);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  const setStatus = (status: "active" | "suspended") =>
    act(
      () => must(api.PATCH("/v1/channels/{id}", { params: { path: { id } }, body: { status } })),
      status === "active" ? t("resume") : t("suspended"),
    );
  return (
    <div class="page">
      <header class="page-head">
        <h1>{c.name}</h1>
        <Badge value={c.status} />
        {manages &&
          (c.status === "active" ? (
            <button type="button" class="danger" onClick={() => setStatus("suspended")}>
              {t("suspend")}
            </button>
          ) : (
            <button type="button" onClick={() => setStatus("active")}>
              {t("resume")}
            </button>
          ))}
      </header>
      <Outcome message={message} />
      <dl class="facts">
        <dt>{t("type")}</dt>
        <dd>{c.type}</dd>
        <dt>ID</dt>
        <dd>{c.id}</dd>
        <dt>{t("created")}</dt>
        <dd>{fmtDate(c.created_at)}</dd>
      </dl>
      <Section title={t("balance")}>
        {balance.error ? <ErrorBox error={balance.error} onRetry={balance.reload} /> : null}
        {balance.data && (
          <ul class="kpis small">
            <li class="kpi">
              <span class="kpi-label">{t("balance")}</span>
              <strong class="kpi-value">{fmtMoney(balance.data.balance, balance.data.currency ?? "CNY")}</strong>
            </li>
            <li class="kpi">
              <span class="kpi-label">{t("creditLimit")}</span>
              <strong class="kpi-value">{fmtMoney(balance.data.credit_limit, balance.data.currency ?? "CNY")}</strong>
            </li>
            <li class="kpi">
              <span class="kpi-label">{t("available")}</span>
              <strong class="kpi-value">{fmtMoney(balance.data.available, balance.data.currency ?? "CNY")}</strong>
            </li>
          </ul>
        )}
        {manages && can(role, "ledger:write") && (
          <AmountForm
            label={`${t("topUp")} (${t("amount")})`}
            action={t("topUp")}
            onSubmit={(amount) =>
              act(
                () =>
                  must(
                    api.POST("/v1/channels/{id}/balance", {
                      params: { path: { id }, header: { "idempotency-key": idem() } },
                      body: { amount, currency: balance.data?.currency ?? "CNY", note: "console top-up" },
                    }),
                  ),
                t("topUp"),
              )
            }
          />
        )}
        {manages && can(role, "ledger:write") && (
          <AmountForm
            label={`${t("creditLimit")} (${t("amount")})`}
            action={t("save")}
            allowZero
            onSubmit={(credit_limit) =>
              act(
                () => must(api.PATCH("/v1/channels/{id}", { params: { path: { id } }, body: { credit_limit } })),
                t("saved"),
              )
            }
          />
        )}
      </Section>
      {manages && <PoolEditor channel={c} parentIsMe={c.parent_id === (ownChannelId ?? "chn_root")} />}
      {can(role, "keys:write") && <Keys channelId={id} />}
    </div>
  );
}

/** One amount in yuan (a top-up, or a credit line where 0 is allowed), sent as minor units. */
function AmountForm({
  label,
  action,
  allowZero = false,
  onSubmit,
}: {
  label: string;
  action: string;
  allowZero?: boolean;
  onSubmit: (minor: number) => void;
}) {
  const [amount, setAmount] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="form inline"
      onSubmit={(e) => {
        e.preventDefault();
        const minor = parseMoney(amount);
        if (minor === null || (minor === 0 && !allowZero)) return setError(t("badPrice"));
        setError(null);
        onSubmit(minor);
        setAmount("");
      }}
    >
      <Field label={label}>
        <input
          inputMode="decimal"
          required
          value={amount}
          onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
        />
      </Field>
      <button type="submit">{action}</button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function Keys({ channelId }: { channelId: string }) {
  const [tick, setTick] = useState(0);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const keys = useAsync(
    () => must(api.GET("/v1/channels/{id}/keys", { params: { path: { id: channelId } } })),
    [channelId, tick],
  );
  const create = async () => {
    setError(null);
    try {
      const k = await must(
        api.POST("/v1/channels/{id}/keys", { params: { path: { id: channelId } }, body: { name: "console" } }),
      );
      setSecret(k.secret ?? null);
      setTick((n) => n + 1);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const revoke = async (k: ApiKey) => {
    try {
      await must(api.DELETE("/v1/channels/{id}/keys/{key_id}", { params: { path: { id: channelId, key_id: k.id } } }));
      setTick((n) => n + 1);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Section
      title={t("keys")}
      actions={
        <button type="button" onClick={create}>
          {t("newKey")}
        </button>
      }
    >
      {secret && (
        <div class="notice" role="status">
          <p>{t("keyShownOnce")}</p>
          <code class="secret">{secret}</code>
          <button type="button" onClick={() => setSecret(null)}>
            {t("close")}
          </button>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {keys.data && (
        <Table<ApiKey>
          caption={t("keys")}
          rows={keys.data.data}
          rowKey={(k) => k.id}
          columns={[
            { label: t("name"), render: (k) => `${k.name ?? "—"} (${k.prefix}…)` },
            { label: t("created"), render: (k) => fmtDate(k.created_at) },
            {
              label: t("status"),
              render: (k) => (k.revoked_at ? <Badge value="revoked" /> : <Badge value="active" />),
            },
            {
              label: t("actions"),
              render: (k) =>
                k.revoked_at ? null : (
                  <button type="button" class="danger" onClick={() => revoke(k)}>
                    {t("revoke")}
                  </button>
                ),
            },
          ]}
        />
      )}
    </Section>
  );
}
