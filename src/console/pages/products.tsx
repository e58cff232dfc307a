/** Products: the list with search and filters, and a form to create one (the merchant's staff only). */
import { useState } from "preact/hooks";
import { api, idem, must, type Schemas } from "../api";
import { fmtMoney, parseMoney, t } from "../i18n";
import { can } from "../roles";
import { go } from "../router";
import { Badge, Empty, ErrorBox, errorText, Field, Loading, Pager, Section, Select, Table, usePaged } from "../ui";

type Product = Schemas["Product"];
type Status = "" | "active" | "paused" | "archived";
type Kind = "code" | "card" | "link" | "topup";

export function Products({ role }: { role: string }) {
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState<Status>("");
  const [creating, setCreating] = useState(false);
  const list = usePaged(
    (cursor) =>
      must(
        api.GET("/v1/products", {
          params: { query: { limit: 20, cursor, ...(search ? { q: search } : {}), ...(status ? { status } : {}) } },
        }),
      ),
    [search, status],
  );
  const filtered = search !== "" || status !== "";
  return (
    <div class="page">
      <header class="page-head">
        <h1>{t("products")}</h1>
        {can(role, "products:write") && (
          <button type="button" class="primary" onClick={() => setCreating(true)} aria-expanded={creating}>
            {t("newProduct")}
          </button>
        )}
      </header>
      {creating && <CreateProduct onDone={() => setCreating(false)} />}
      {/* biome-ignore lint/a11y/useSemanticElements: <search> is not in Preact's element types yet */}
      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(q.trim());
        }}
      >
        <Field label={t("searchProducts")}>
          <input type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        </Field>
        <Select<Status>
          label={t("status")}
          value={status}
          onChange={setStatus}
          options={[
            { value: "", label: t("all") },
            { value: "active", label: t("active") },
            { value: "paused", label: t("paused") },
            { value: "archived", label: t("archived") },
          ]}
        />
        <button type="submit">{t("search")}</button>
      </form>
      {list.error ? <ErrorBox error={list.error} onRetry={list.reload} /> : null}
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.rows.length === 0 && <Empty text={filtered ? t("noMatch") : t("noProducts")} />}
      {list.rows.length > 0 && (
        <>
          <Table<Product>
            caption={t("products")}
            rows={list.rows}
            rowKey={(p) => p.id}
            columns={[
              { label: t("name"), render: (p) => <a href={`#/products/${p.id}`}>{p.name}</a> },
              { label: t("kind"), render: (p) => kindLabel(p.kind) },
              { label: t("price"), numeric: true, render: (p) => fmtMoney(p.price, p.currency) },
              { label: t("status"), render: (p) => <Badge value={p.status} /> },
            ]}
          />
          <Pager paged={list} />
        </>
      )}
    </div>
  );
}

export const kindLabel = (k: string) =>
  ({ code: t("kindCode"), card: t("kindCard"), link: t("kindLink"), topup: t("kindTopup") })[k] ?? k;

function CreateProduct({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Kind>("code");
  const [price, setPrice] = useState("");
  const [currency, setCurrency] = useState("CNY");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const minor = parseMoney(price);
    if (minor === null) return setError(t("badPrice"));
    setBusy(true);
    setError(null);
    try {
      const p = await must(
        api.POST("/v1/products", {
          body: { name: name.trim(), kind, price: minor, currency },
          headers: { "idempotency-key": idem() },
        }),
      );
      onDone();
      go("products", p.id);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title={t("newProduct")}>
      <form class="form" onSubmit={submit}>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <Field label={t("name")}>
          <input required maxLength={200} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </Field>
        <Select<Kind>
          label={t("kind")}
          value={kind}
          onChange={setKind}
          options={(["code", "card", "link", "topup"] as const).map((k) => ({ value: k, label: kindLabel(k) }))}
        />
        <Field label={t("priceYuan")}>
          <input
            inputMode="decimal"
            required
            value={price}
            onInput={(e) => setPrice((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Select
          label={t("currency")}
          value={currency}
          onChange={setCurrency}
          options={["CNY", "USD", "EUR", "HKD"].map((c) => ({ value: c, label: c }))}
        />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
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
