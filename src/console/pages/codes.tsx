/**
 * Codes, for support: find codes by last 4, order or status (masked), void one with a reason, or reveal one
 * after typing the password again (the server checks it, caps reveals and writes the audit log). A revealed
 * code stays in this component's state only, until "Hide" or leaving the page.
 */
import { useState } from "preact/hooks";
import { api, ConsoleError, must, type Schemas } from "../api";
import { fmtDate, t } from "../i18n";
import { useChannelNames } from "../names";
import { can } from "../roles";
import { Badge, Empty, ErrorBox, errorText, Field, Loading, Pager, Select, statusLabel, Table, usePaged } from "../ui";

type Code = Schemas["CodeEntry"];
const STATUSES = ["", "available", "issued", "redeemed", "voided"] as const;
type Status = (typeof STATUSES)[number];

export function Codes({ role }: { role: string }) {
  const [draft, setDraft] = useState({ last4: "", order_id: "", status: "" as Status });
  const [filters, setFilters] = useState(draft);
  const [tick, setTick] = useState(0);
  const [acting, setActing] = useState<{ code: Code; action: "void" | "reveal" } | null>(null);
  const channelName = useChannelNames();
  const searching = filters.last4 !== "" || filters.order_id !== "" || filters.status !== "";
  const list = usePaged(
    (cursor) =>
      must(
        api.GET("/v1/codes", {
          params: {
            query: {
              limit: 20,
              cursor,
              ...(filters.last4 ? { last4: filters.last4 } : {}),
              ...(filters.order_id ? { order_id: filters.order_id } : {}),
              ...(filters.status ? { status: filters.status } : {}),
            },
          },
        }),
      ),
    [JSON.stringify(filters), tick],
  );
  const writer = can(role, "codes:write");
  return (
    <div class="page">
      <h1>{t("codes")}</h1>
      <p class="hint">{t("codesHelp")}</p>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft, last4: draft.last4.trim(), order_id: draft.order_id.trim() });
        }}
      >
        <Field label={t("last4")}>
          <input
            maxLength={4}
            value={draft.last4}
            onInput={(e) => setDraft({ ...draft, last4: (e.target as HTMLInputElement).value })}
          />
        </Field>
        <Field label={t("orders")}>
          <input
            placeholder="ord_…"
            value={draft.order_id}
            onInput={(e) => setDraft({ ...draft, order_id: (e.target as HTMLInputElement).value })}
          />
        </Field>
        <Select<Status>
          label={t("status")}
          value={draft.status}
          onChange={(v) => setDraft({ ...draft, status: v })}
          options={STATUSES.map((s) => ({ value: s, label: s === "" ? t("all") : statusLabel(s) }))}
        />
        <button type="submit">{t("search")}</button>
      </form>
      {acting && (
        <ActOnCode
          {...acting}
          onClose={(changed) => {
            setActing(null);
            if (changed) setTick((n) => n + 1);
          }}
        />
      )}
      {list.error ? <ErrorBox error={list.error} onRetry={list.reload} /> : null}
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.rows.length === 0 && <Empty text={searching ? t("noMatch") : t("noCodes")} />}
      {list.rows.length > 0 && (
        <>
          <Table<Code>
            caption={t("codes")}
            rows={list.rows}
            rowKey={(c) => c.id}
            columns={[
              { label: t("code"), render: (c) => <span class="masked">••••-{c.last4}</span> },
              { label: t("status"), render: (c) => <Badge value={c.status} /> },
              { label: t("product"), render: (c) => <a href={`#/products/${c.product_id}`}>{c.product_id}</a> },
              {
                label: t("orders"),
                render: (c) => (c.order_id ? <a href={`#/orders/${c.order_id}`}>{c.order_id}</a> : "—"),
              },
              { label: t("channel"), render: (c) => (c.channel_id ? channelName(c.channel_id) : "—") },
              { label: t("validUntilShort"), render: (c) => fmtDate(c.expires_at, false) },
              ...(writer
                ? [
                    {
                      label: t("actions"),
                      render: (c: Code) => (
                        <span class="row-actions">
                          <button type="button" onClick={() => setActing({ code: c, action: "reveal" })}>
                            {t("reveal")}
                          </button>
                          {(c.status === "available" || c.status === "issued") && (
                            <button type="button" class="danger" onClick={() => setActing({ code: c, action: "void" })}>
                              {t("void")}
                            </button>
                          )}
                        </span>
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

function ActOnCode({
  code,
  action,
  onClose,
}: {
  code: Code;
  action: "void" | "reveal";
  onClose: (changed: boolean) => void;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState<{ code: string; pin?: string } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      if (action === "void") {
        await must(
          api.POST("/v1/codes/{id}/void", { params: { path: { id: code.id } }, body: { reason: text.trim() } }),
        );
        onClose(true);
      } else {
        const r = await must(
          api.POST("/v1/codes/{id}/reveal", { params: { path: { id: code.id } }, body: { password: text } }),
        );
        setText("");
        setShown({ code: r.code, pin: r.pin });
      }
    } catch (err) {
      setError(err instanceof ConsoleError && err.code === "password_mismatch" ? t("badPassword") : errorText(err));
    }
  };
  return (
    <section class="card" aria-label={action === "void" ? t("void") : t("reveal")}>
      <h2>
        {action === "void" ? t("void") : t("reveal")} ••••-{code.last4}
      </h2>
      {shown ? (
        <div class="notice" role="status">
          <p>{t("revealedOnce")}</p>
          <code class="secret" data-revealed>
            {shown.code}
            {shown.pin ? ` / ${shown.pin}` : ""}
          </code>
          <button type="button" onClick={() => onClose(false)}>
            {t("hide")}
          </button>
        </div>
      ) : (
        <form class="form" onSubmit={submit}>
          {action === "void" ? (
            <Field label={t("reason")}>
              <input
                required
                maxLength={200}
                value={text}
                onInput={(e) => setText((e.target as HTMLInputElement).value)}
              />
            </Field>
          ) : (
            <Field label={t("password")} hint={t("revealHelp")}>
              <input
                type="password"
                autoComplete="current-password"
                required
                value={text}
                onInput={(e) => setText((e.target as HTMLInputElement).value)}
              />
            </Field>
          )}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="form-actions">
            <button type="submit" class={action === "void" ? "danger" : "primary"}>
              {action === "void" ? t("void") : t("reveal")}
            </button>
            <button type="button" onClick={() => onClose(false)}>
              {t("cancel")}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
