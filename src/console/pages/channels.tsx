/** Channels: the node's subtree as an indented tree, and a form to add a child channel. */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { fmtDate, t } from "../i18n";
import { forgetChannelNames } from "../names";
import { can } from "../roles";
import { go } from "../router";
import { Badge, Empty, ErrorBox, errorText, Field, Loading, Pager, Section, Select, Table, usePaged } from "../ui";

type Channel = Schemas["Channel"];
const TYPES = ["own_store", "marketplace", "partner", "agent", "store", "enterprise"] as const;
type ChannelType = (typeof TYPES)[number];

export function Channels({ role }: { role: string }) {
  const [creating, setCreating] = useState(false);
  const list = usePaged((cursor) => must(api.GET("/v1/channels", { params: { query: { limit: 100, cursor } } })), []);
  const rows = [...list.rows].sort((a, b) => a.path.join("/").localeCompare(b.path.join("/")));
  const top = Math.min(...rows.map((r) => r.depth));
  return (
    <div class="page">
      <header class="page-head">
        <h1>{t("channels")}</h1>
        {can(role, "channels:write") && (
          <button type="button" class="primary" onClick={() => setCreating(true)} aria-expanded={creating}>
            {t("newChannel")}
          </button>
        )}
      </header>
      {creating && <CreateChannel parents={rows} onDone={() => setCreating(false)} />}
      {list.error ? <ErrorBox error={list.error} onRetry={list.reload} /> : null}
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && rows.length === 0 && <Empty text={t("noChannels")} />}
      {rows.length > 0 && (
        <>
          <Table<Channel>
            caption={t("channels")}
            rows={rows}
            rowKey={(c) => c.id}
            columns={[
              {
                label: t("name"),
                render: (c) => (
                  <a href={`#/channels/${c.id}`} style={{ paddingInlineStart: `${(c.depth - top) * 1.25}rem` }}>
                    {c.name}
                  </a>
                ),
              },
              { label: t("type"), render: (c) => c.type },
              { label: t("status"), render: (c) => <Badge value={c.status} /> },
              { label: t("created"), render: (c) => fmtDate(c.created_at, false) },
            ]}
          />
          <Pager paged={list} />
        </>
      )}
    </div>
  );
}

function CreateChannel({ parents, onDone }: { parents: Channel[]; onDone: () => void }) {
  const [name, setName] = useState("");
  const [type, setType] = useState<ChannelType>("store");
  const [parent, setParent] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const c = await must(
        api.POST("/v1/channels", { body: { name: name.trim(), type, ...(parent ? { parent_id: parent } : {}) } }),
      );
      forgetChannelNames();
      onDone();
      go("channels", c.id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Section title={t("newChannel")}>
      <form class="form" onSubmit={submit}>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <Field label={t("name")}>
          <input required maxLength={200} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </Field>
        <Select<ChannelType>
          label={t("type")}
          value={type}
          onChange={setType}
          options={TYPES.map((v) => ({ value: v, label: v }))}
        />
        <Select
          label={t("parent")}
          value={parent}
          onChange={setParent}
          options={[{ value: "", label: "—" }, ...parents.map((p) => ({ value: p.id, label: p.name }))]}
        />
        <div class="form-actions">
          <button type="submit" class="primary">
            {t("create")}
          </button>
          <button type="button" onClick={onDone}>
            {t("cancel")}
          </button>
        </div>
      </form>
    </Section>
  );
}
