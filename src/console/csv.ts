/**
 * CSV exports of what a page lists, with the page's filters: UTF-8 with a BOM so Excel opens Chinese
 * correctly, one header row, cells quoted when they need it, and a leading ' on cells that start like a
 * formula (=, +, -, @) so a spreadsheet never runs them. Pure apart from download().
 */
export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null) => {
    let s = v === null ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `\uFEFF${[header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n")}\r\n`;
}

export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Reads every page of a cursor list (up to `max` rows), reporting the count as it goes. */
export async function allPages<R extends { id: string }>(
  fetchPage: (cursor: string | undefined) => Promise<{ data: R[]; has_more: boolean; next_cursor: string | null }>,
  onProgress: (n: number) => void,
  max = 50_000,
): Promise<R[]> {
  const rows: R[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    rows.push(...page.data);
    onProgress(rows.length);
    if (!page.has_more || !page.next_cursor || rows.length >= max) return rows;
    cursor = page.next_cursor;
  }
}
