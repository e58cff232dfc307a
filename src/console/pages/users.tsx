/**
 * Console users (owners and admins): the list with each staff member's role and status editable, and a form to
 * add one (a channel manager names its channel).
 */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { type Key, t } from "../i18n";
import { useChannelList } from "../names";
import { can } from "../roles";
import { Badge, ErrorBox, errorText, Field, Outcome, Section, Select } from "../ui";
import { PagedTable } from "./lists";

const ROLES = ["owner", "admin", "operator", "finance", "auditor", "channel_manager"] as const;
type Role = (typeof ROLES)[number];
const STAFF_ROLES = ROLES.filter((r) => r !== "channel_manager");

export function Users({ role }: { role: string }) {
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const channelName = useChannelList();
  // Any change ends the person's sessions at once (the server revokes them): a new role applies at their next
  // sign-in, a disabled user cannot sign in, enabling lets them again. The server keeps one active owner.
  const change = async (u: Schemas["User"], body: { status?: "active" | "disabled"; role?: Role }, done: string) => {
    setMessage(null);
    try {
      await must(api.PATCH("/v1/users/{id}", { params: { path: { id: u.id } }, body }));
      setMessage({ ok: true, text: `${u.email}: ${done}` });
      setTick((n) => n + 1);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  if (!can(role, "users:admin")) return <ErrorBox error={t("forbidden")} />;
  return (
    <div class="page">
      <h1>{t("users")}</h1>
      <NewUser onDone={() => setTick((n) => n + 1)} channels={channelName} canOwner={role === "owner"} />
      <Outcome message={message} />
      <PagedTable<Schemas["User"]>
        title={t("users")}
        empty="noUsers"
        deps={[tick]}
        fetch={(cursor) => must(api.GET("/v1/users", { params: { query: { cursor, limit: 50 } } }))}
        columns={[
          { label: t("email"), render: (u) => u.email },
          {
            label: t("role"),
            // A channel manager belongs to a channel: moving them to a staff role is a new user, not an edit.
            render: (u) =>
              u.role === "channel_manager" || (u.role === "owner" && role !== "owner") ? (
                t(`role_${u.role}` as Key)
              ) : (
                <select
                  aria-label={`${t("role")}: ${u.email}`}
                  value={u.role}
                  onChange={(e) => {
                    const next = (e.target as HTMLSelectElement).value as Role;
                    change(u, { role: next }, t(`role_${next}` as Key));
                  }}
                >
                  {STAFF_ROLES.filter((r) => r !== "owner" || role === "owner").map((r) => (
                    <option key={r} value={r}>
                      {t(`role_${r}` as Key)}
                    </option>
                  ))}
                </select>
              ),
          },
          {
            label: t("channel"),
            render: (u) => channelName.find(([id]) => id === u.channel_id)?.[1] ?? u.channel_id ?? "—",
          },
          { label: t("status"), render: (u) => <Badge value={u.status} /> },
          {
            label: t("actions"),
            render: (u) =>
              u.status === "active" ? (
                <button
                  type="button"
                  onClick={() => change(u, { status: "disabled" }, t("status_disabled"))}
                  aria-label={`${t("disable")} ${u.email}`}
                >
                  {t("disable")}
                </button>
              ) : (
                <button
                  type="button"
                  onClick={() => change(u, { status: "active" }, t("status_active"))}
                  aria-label={`${t("enable")} ${u.email}`}
                >
                  {t("enable")}
                </button>
              ),
          },
        ]}
      />
    </div>
  );
}

function NewUser({
  onDone,
  channels,
  canOwner,
}: {
  onDone: () => void;
  channels: [string, string][];
  canOwner: boolean;
}) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("operator");
  const [channel, setChannel] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const stores = channels.filter(([id]) => id !== "chn_root");
  const submit = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    try {
      const channel_id = role === "channel_manager" ? channel || stores[0]?.[0] : undefined;
      await must(
        api.POST("/v1/users", { body: { email: email.trim(), password, role, ...(channel_id ? { channel_id } : {}) } }),
      );
      setMessage({ ok: true, text: t("saved") });
      setEmail("");
      setPassword("");
      onDone();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <Section title={t("newUser")}>
      <form class="form inline" onSubmit={submit}>
        <Field label={t("email")}>
          <input
            type="email"
            required
            autoComplete="off"
            value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label={t("password")} hint={t("passwordRule")}>
          <input
            type="password"
            required
            minLength={12}
            autoComplete="new-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Select<Role>
          label={t("role")}
          value={role}
          onChange={setRole}
          options={ROLES.filter((r) => r !== "owner" || canOwner).map((r) => ({
            value: r,
            label: t(`role_${r}` as Key),
          }))}
        />
        {role === "channel_manager" && (
          <Select
            label={t("channel")}
            value={channel || stores[0]?.[0] || ""}
            onChange={setChannel}
            options={stores.map(([id, name]) => ({ value: id, label: name }))}
          />
        )}
        <button type="submit" class="primary">
          {t("create")}
        </button>
      </form>
      <Outcome message={message} />
    </Section>
  );
}
