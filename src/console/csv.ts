/** Saving a CSV the server made (exports, statements) as a file in the browser. */
/** Saves bytes as a file (a server's CSV keeps its BOM this way; text() would drop it). */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
