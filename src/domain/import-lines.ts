/** Validation of imported code lines: format, PIN rules and duplicates inside the file. Pure. */
import { hasDefaultShape, normalizeCode } from "./code-format";

export interface ImportLine {
  code: string;
  pin?: string | null;
}

export interface LineError {
  line: number;
  error:
    | "invalid_code"
    | "pin_required"
    | "pin_not_allowed"
    | "invalid_pin"
    | "duplicate_in_file"
    | "duplicate_existing"
    | "reserved_format";
  message: string;
}

export interface CheckedLine {
  line: number;
  display: string;
  normalized: string;
  pin: string | null;
}

const CODE_CHARS = /^[0-9A-Z]{4,64}$/;
const PIN_CHARS = /^[0-9A-Za-z]{4,32}$/;

/**
 * Checks every line (1-based numbers as in the file). `checkOk` tells whether a
 * default-shaped code carries valid check characters; those that do not are refused,
 * because the edge would reject them at redemption without looking them up.
 */
export function checkImportLines(
  lines: ImportLine[],
  wantsPin: boolean,
  checkOk: (normalized: string) => boolean,
  firstLine = 1,
): { ok: CheckedLine[]; errors: LineError[] } {
  const ok: CheckedLine[] = [];
  const errors: LineError[] = [];
  const firstSeen = new Map<string, number>();
  lines.forEach((raw, i) => {
    const line = i + firstLine;
    const display = raw.code.trim();
    const normalized = normalizeCode(display);
    const pin = raw.pin?.trim() || null;
    if (!CODE_CHARS.test(normalized)) {
      errors.push({
        line,
        error: "invalid_code",
        message: "a code has 4–64 letters or digits (spaces and dashes are ignored)",
      });
    } else if (wantsPin && !pin) {
      errors.push({ line, error: "pin_required", message: "card products need a PIN on every line" });
    } else if (!wantsPin && pin) {
      errors.push({ line, error: "pin_not_allowed", message: "only card products take a PIN" });
    } else if (pin && !PIN_CHARS.test(pin)) {
      errors.push({ line, error: "invalid_pin", message: "a PIN has 4–32 letters or digits" });
    } else if (hasDefaultShape(normalized) && !checkOk(normalized)) {
      errors.push({
        line,
        error: "reserved_format",
        message: "16-character Crockford codes are reserved for generated codes with check characters; add a prefix",
      });
    } else if (firstSeen.has(normalized)) {
      errors.push({ line, error: "duplicate_in_file", message: `same code as line ${firstSeen.get(normalized)}` });
    } else {
      firstSeen.set(normalized, line);
      ok.push({ line, display, normalized, pin });
    }
  });
  return { ok, errors };
}

/** Parses a CSV upload: one code per line, optionally `code,pin`; a header row `code[,pin]` is skipped. */
export function parseCsv(text: string): { lines: ImportLine[]; firstLine: number } {
  const rows = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  while (rows.length && rows[rows.length - 1].trim() === "") rows.pop();
  const header = rows.length > 0 && /^\s*"?code"?\s*(,\s*"?pin"?\s*)?$/i.test(rows[0]);
  if (header) rows.shift();
  const lines = rows.map((row) => {
    const [code, pin] = row.split(",").map((cell) => cell.trim().replace(/^"(.*)"$/, "$1"));
    return { code: code ?? "", pin: pin || null };
  });
  return { lines, firstLine: header ? 2 : 1 };
}
