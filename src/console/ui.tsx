/** Shared pieces of every page: loading, error and empty states, labelled fields, tables, cursor paging. */
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ConsoleError } from "./api";
import { hasKey, t } from "./i18n";

export function Loading({ label }: { label?: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label ?? t("loading")}
    </div>
  );
}

/** What went wrong, in the person's terms, with a way forward. */
export function errorText(error: unknown): string {
  if (error instanceof ConsoleError) {
    if (error.status === 0) return t("networkError");
    if (error.status === 403) return t("forbidden");
    return error.message;
  }
  return String(error);
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div class="error" role="alert">
      <strong>{t("errorTitle")}</strong>
      <p>{errorText(error)}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t("retry")}
        </button>
      )}
    </div>
  );
}

/** What an action did: a status on success, an alert on failure (nothing before the first action). */
export function Outcome({ message }: { message: { ok: boolean; text: string } | null }) {
  if (!message) return null;
  return (
    <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>
      {message.text}
    </p>
  );
}

export function Empty({ text }: { text: string }) {
  return <p class="empty">{text}</p>;
}

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the child passed in
    <label class="field">
      <span class="field-label">{label}</span>
      {children}
      {hint && <span class="hint">{hint}</span>}
    </label>
  );
}

export function Select<T extends string>(props: {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (v: T) => void;
}) {
  return (
    <Field label={props.label}>
      <select value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value as T)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

export interface Column<R> {
  label: string;
  render: (row: R) => ComponentChildren;
  numeric?: boolean;
}

export function Table<R>({
  caption,
  columns,
  rows,
  rowKey,
}: {
  caption: string;
  columns: Column<R>[];
  rows: R[];
  rowKey: (r: R) => string;
}) {
  return (
    // Focusable and named, so a keyboard can scroll a wide table on a phone.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
    <section class="table-wrap" aria-label={caption} tabIndex={0}>
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.label} scope="col" class={c.numeric ? "num" : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={rowKey(r)}>
              {columns.map((c) => (
                <td key={c.label} class={c.numeric ? "num" : undefined} data-label={c.label}>
                  {c.render(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export const statusLabel = (value: string) => {
  const key = `status_${value}`;
  return hasKey(key) ? t(key) : value;
};

/** A status as a coloured label in the current language (an unknown status shows as it is). */
export function Badge({ value }: { value: string }) {
  return <span class={`badge badge-${value}`}>{statusLabel(value)}</span>;
}

/** Runs `load` when `deps` change; `reload()` runs it again. Stale answers are dropped. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error) => mine === seq.current && setState({ error, loading: false }),
    );
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

export interface Page<R> {
  data: R[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Cursor pagination: the current page, and a stack of the cursors before it so "first page" works. */
export function usePaged<R>(fetchPage: (cursor: string | undefined) => Promise<Page<R>>, deps: unknown[]) {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  useEffect(() => setCursor(undefined), deps);
  const page = useAsync(() => fetchPage(cursor), [cursor, ...deps]);
  return {
    ...page,
    rows: page.data?.data ?? [],
    hasMore: page.data?.has_more ?? false,
    atFirst: cursor === undefined,
    next: () => page.data?.next_cursor && setCursor(page.data.next_cursor),
    first: () => setCursor(undefined),
  };
}

export function Pager({
  paged,
}: {
  paged: { hasMore: boolean; atFirst: boolean; next: () => void; first: () => void };
}) {
  if (paged.atFirst && !paged.hasMore) return null;
  return (
    <nav class="pager" aria-label={t("next")}>
      <button type="button" onClick={paged.first} disabled={paged.atFirst}>
        {t("first")}
      </button>
      <button type="button" onClick={paged.next} disabled={!paged.hasMore}>
        {t("next")}
      </button>
    </nav>
  );
}

/** A labelled section of a page. */
export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id}>
      <header class="card-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}
