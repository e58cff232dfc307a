/**
 * One product: its numbers, stock per shard and quota per channel, and its batches: generate codes with a
 * progress bar that follows the batch to 100 %, or import a CSV and see each refused line by number.
 */
import { useEffect, useState } from "preact/hooks";
import { api, ConsoleError, must, type Schemas } from "../api";
import { fmtDate, fmtMoney, fmtNumber, t } from "../i18n";
import { useChannelNames } from "../names";
import { can } from "../roles";
import { Badge, Empty, ErrorBox, errorText, Field, Loading, Pager, Section, Table, useAsync, usePaged } from "../ui";
import { ProductEdit } from "./product-edit";
import { kindLabel } from "./products";

type Batch = Schemas["Batch"];

export function ProductDetail({ id, role }: { id: string; role: string }) {
  const [tick, setTick] = useState(0);
  const channelName = useChannelNames();
  const product = useAsync(() => must(api.GET("/v1/products/{id}", { params: { path: { id } } })), [id]);
  const stock = useAsync(() => must(api.GET("/v1/products/{id}/stock", { params: { path: { id } } })), [id, tick]);
  if (product.error) return <ErrorBox error={product.error} onRetry={product.reload} />;
  if (!product.data) return <Loading />;
  const p = product.data;
  const s = stock.data;
  const root = s?.total !== null && s?.total !== undefined;
  return (
    <div class="page">
      <header class="page-head">
        <h1>{p.name}</h1>
        <Badge value={p.status} />
      </header>
      <p>
        {kindLabel(p.kind)} · {fmtMoney(p.price, p.currency)}
      </p>
      <Section title={t("stock")}>
        {stock.error && <ErrorBox error={stock.error} onRetry={stock.reload} />}
        {s && root && (
          <ul class="kpis small">
            {(["available", "held", "issued", "redeemed", "voided", "unallocated"] as const).map((k) => (
              <li key={k} class="kpi">
                <span class="kpi-label">{t(k)}</span>
                <strong class="kpi-value" data-stock={k}>
                  {fmtNumber(s[k] ?? 0)}
                </strong>
              </li>
            ))}
          </ul>
        )}
        {s && s.shards.length > 0 && (
          <Table
            caption={t("shard")}
            rows={s.shards}
            rowKey={(r) => String(r.shard)}
            columns={[
              { label: t("shard"), render: (r) => `#${r.shard}` },
              { label: t("available"), numeric: true, render: (r) => fmtNumber(r.available) },
              { label: t("stock"), numeric: true, render: (r) => fmtNumber(r.total) },
            ]}
          />
        )}
        {s && s.allocations.length > 0 && (
          <Table
            caption={t("quota")}
            rows={s.allocations}
            rowKey={(r) => r.channel_id}
            columns={[
              {
                label: t("channel"),
                render: (r) => <a href={`#/channels/${r.channel_id}`}>{channelName(r.channel_id)}</a>,
              },
              { label: t("quota"), numeric: true, render: (r) => fmtNumber(r.quota) },
            ]}
          />
        )}
      </Section>
      {can(role, "products:write") && <ProductEdit product={p} onSaved={product.reload} />}
      {can(role, "codes:write") && p.kind !== "topup" && (
        <div class="grid2">
          <Generate productId={id} onDone={() => setTick((n) => n + 1)} />
          <ImportCsv productId={id} onDone={() => setTick((n) => n + 1)} />
        </div>
      )}
      {root && <Batches productId={id} tick={tick} />}
    </div>
  );
}

function Progress({ batch }: { batch: Batch }) {
  const pct = batch.total > 0 ? Math.floor((batch.done / batch.total) * 100) : 0;
  return (
    <div class="progress-wrap">
      <progress max={100} value={pct} aria-label={t("generating")} />
      <span data-progress={pct}>
        {pct} % · {t("progress", { done: fmtNumber(batch.done), total: fmtNumber(batch.total) })}
      </span>
    </div>
  );
}

function Generate({ productId, onDone }: { productId: string; onDone: () => void }) {
  const [count, setCount] = useState("1000");
  const [batch, setBatch] = useState<Batch | null>(null);
  const [error, setError] = useState<string | null>(null);
  const running = batch?.status === "running";
  // Follows a running batch until it completes (large ones finish in the background).
  useEffect(() => {
    if (batch?.status !== "running") return;
    const timer = setTimeout(async () => {
      try {
        setBatch(await must(api.GET("/v1/batches/{id}", { params: { path: { id: batch.id } } })));
      } catch (err) {
        setError(errorText(err));
      }
    }, 500);
    return () => clearTimeout(timer);
  }, [batch]);
  useEffect(() => {
    if (batch?.status === "completed") onDone();
  }, [batch?.status]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const n = Number(count);
      setBatch(
        await must(
          api.POST("/v1/products/{id}/batches", {
            params: { path: { id: productId } },
            body: { generate: { count: n } },
          }),
        ),
      );
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Section title={t("generate")}>
      <form class="form" onSubmit={submit}>
        <Field label={t("count")}>
          <input
            type="number"
            min={1}
            max={100000}
            required
            value={count}
            onInput={(e) => setCount((e.target as HTMLInputElement).value)}
          />
        </Field>
        <button type="submit" class="primary" disabled={running}>
          {running ? t("generating") : t("generate")}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {batch && <Progress batch={batch} />}
        {batch?.status === "completed" && (
          <p class="ok" role="status">
            {t("batchDone", { count: fmtNumber(batch.done) })}
          </p>
        )}
      </form>
    </Section>
  );
}

type LineError = { line: number; error: string; message: string };

function ImportCsv({ productId, onDone }: { productId: string; onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok?: number; errors?: LineError[]; count?: number; message?: string } | null>(
    null,
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setResult(null);
    try {
      const text = await file.text();
      const batch = await must(
        api.POST("/v1/products/{id}/batches", {
          params: { path: { id: productId } },
          body: text as never,
          bodySerializer: (b: unknown) => b as string,
          headers: { "content-type": "text/csv" },
        }),
      );
      setResult({ ok: batch.total });
      onDone();
    } catch (err) {
      const details =
        err instanceof ConsoleError ? (err.details as { errors?: LineError[]; error_count?: number }) : undefined;
      setResult(details?.errors ? { errors: details.errors, count: details.error_count } : { message: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title={t("importCsv")}>
      <form class="form" onSubmit={submit}>
        <Field label={t("csvFile")} hint={t("csvHelp")}>
          <input
            type="file"
            accept=".csv,text/csv,text/plain"
            required
            onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)}
          />
        </Field>
        <button type="submit" class="primary" disabled={busy || !file}>
          {busy ? t("importing") : t("importCsv")}
        </button>
        {result?.ok !== undefined && (
          <p class="ok" role="status">
            {t("imported", { count: fmtNumber(result.ok) })}
          </p>
        )}
        {result?.message && (
          <p class="error" role="alert">
            {result.message}
          </p>
        )}
        {result?.errors && (
          <div class="error" role="alert">
            <p>{t("importErrors", { count: result.count ?? result.errors.length })}</p>
            <ul class="line-errors">
              {result.errors.map((l) => (
                <li key={l.line}>{t("lineError", { line: l.line, reason: l.message })}</li>
              ))}
            </ul>
          </div>
        )}
      </form>
    </Section>
  );
}

function Batches({ productId, tick }: { productId: string; tick: number }) {
  const list = usePaged(
    (cursor) =>
      must(api.GET("/v1/products/{id}/batches", { params: { path: { id: productId }, query: { limit: 10, cursor } } })),
    [productId, tick],
  );
  return (
    <Section title={t("batches")}>
      {list.error ? <ErrorBox error={list.error} onRetry={list.reload} /> : null}
      {list.data && list.rows.length === 0 && <Empty text={t("noBatches")} />}
      {list.rows.length > 0 && (
        <>
          <Table<Batch>
            caption={t("batches")}
            rows={list.rows}
            rowKey={(b) => b.id}
            columns={[
              { label: t("created"), render: (b) => fmtDate(b.created_at) },
              { label: t("type"), render: (b) => (b.source === "generate" ? t("generate") : t("importCsv")) },
              { label: t("quantity"), numeric: true, render: (b) => fmtNumber(b.total) },
              { label: t("status"), render: (b) => <Badge value={b.status} /> },
            ]}
          />
          <Pager paged={list} />
        </>
      )}
    </Section>
  );
}
