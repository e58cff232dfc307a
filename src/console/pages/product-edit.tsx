/** Editing a product: its name, price and status (paused stops selling at once; archived takes no new codes). */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { parseMoney, t } from "../i18n";
import { errorText, Field, Outcome, Section, Select, statusLabel } from "../ui";

type Product = Schemas["Product"];
type Status = "active" | "paused" | "archived";

export function ProductEdit({ product, onSaved }: { product: Product; onSaved: () => void }) {
  const [name, setName] = useState(product.name);
  const [price, setPrice] = useState((product.price / 100).toFixed(2));
  const [status, setStatus] = useState<Status>(product.status as Status);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const minor = parseMoney(price);
    if (minor === null) return setMessage({ ok: false, text: t("badPrice") });
    try {
      await must(
        api.PATCH("/v1/products/{id}", {
          params: { path: { id: product.id } },
          body: { name: name.trim(), price: minor, status },
        }),
      );
      setMessage({ ok: true, text: t("saved") });
      onSaved();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <Section title={t("editProduct")}>
      <form class="form inline" onSubmit={submit}>
        <Field label={t("name")}>
          <input required maxLength={200} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t("priceYuan")}>
          <input
            inputMode="decimal"
            required
            value={price}
            onInput={(e) => setPrice((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Select<Status>
          label={t("status")}
          value={status}
          onChange={setStatus}
          options={(["active", "paused", "archived"] as const).map((s) => ({ value: s, label: statusLabel(s) }))}
        />
        <button type="submit">{t("save")}</button>
      </form>
      <Outcome message={message} />
    </Section>
  );
}
