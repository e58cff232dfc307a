/**
 * Adding a webhook endpoint: its URL (https; the server refuses private and local addresses), the events it
 * wants (exact types, `family.*` or `*`), a note. The signing secret is shown once, right after.
 */
import { useState } from "preact/hooks";
import { api, must } from "../api";
import { t } from "../i18n";
import { errorText, Field, Outcome, Section } from "../ui";

export function NewWebhook({ onDone }: { onDone: () => void }) {
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState("*");
  const [description, setDescription] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    try {
      const made = await must(
        api.POST("/v1/webhooks", {
          body: {
            url: url.trim(),
            events: events
              .split(/[,\s]+/)
              .map((x) => x.trim())
              .filter(Boolean),
            ...(description.trim() ? { description: description.trim() } : {}),
          },
        }),
      );
      setSecret(made.secret ?? null);
      setUrl("");
      setDescription("");
      onDone();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <Section title={t("newWebhook")}>
      {secret && (
        <div class="notice" role="status">
          <p>{t("webhookSecretShownOnce")}</p>
          <code class="secret">{secret}</code>
          <button type="button" onClick={() => setSecret(null)}>
            {t("close")}
          </button>
        </div>
      )}
      <form class="form inline" onSubmit={submit}>
        <Field label={t("url")} hint={t("webhookUrlHint")}>
          <input
            type="url"
            required
            placeholder="https://"
            value={url}
            onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label={t("events")} hint={t("webhookEventsHint")}>
          <input type="text" required value={events} onInput={(e) => setEvents((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t("description")}>
          <input
            type="text"
            maxLength={500}
            value={description}
            onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
          />
        </Field>
        <button type="submit" class="primary">
          {t("create")}
        </button>
      </form>
      <Outcome message={message} />
    </Section>
  );
}
