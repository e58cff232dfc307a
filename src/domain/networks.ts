/** Client networks for failure budgets: IPv4 /24 and IPv6 /64. Pure. */

function expandIpv6(ip: string): string[] | null {
  const [head, tail] = ip.split("::");
  if (ip.split("::").length > 2) return null;
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  const fill = ip.includes("::") ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array(Math.max(0, fill)).fill("0"), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
}

/** The /24 (IPv4) or /64 (IPv6) a client address belongs to, or the address itself when it is neither. */
export function networkOf(ip: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4?.slice(1).every((o) => Number(o) <= 255)) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  const v6 = ip.includes(":") ? expandIpv6(ip.replace(/^\[|\]$/g, "")) : null;
  if (v6) return `${v6.slice(0, 4).join(":")}::/64`;
  return ip;
}

export interface Budget {
  /** Failures allowed inside the window before the subject is locked. */
  failures: number;
  windowMs: number;
  lockMs: number;
}

/** Parses "failures/window_seconds/lock_seconds", e.g. "20/600/900"; falls back when malformed. */
export function parseBudget(text: string | undefined, fallback: Budget): Budget {
  const m = /^(\d{1,7})\/(\d{1,7})\/(\d{1,7})$/.exec(text?.trim() ?? "");
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) return fallback;
  return { failures: Number(m[1]), windowMs: Number(m[2]) * 1000, lockMs: Number(m[3]) * 1000 };
}
