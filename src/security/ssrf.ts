/**
 * URL policy for webhook endpoints (pure): checked when a subscription is made or changed and
 * again before every delivery. Outside development only https to a public name or address;
 * in development http (or https) to loopback is allowed too. Private, link-local, CGNAT,
 * unique-local, multicast, unspecified, documentation and cloud-metadata addresses are never
 * allowed, in any IPv4 spelling (decimal, octal, hex, short forms) or as IPv4-mapped IPv6.
 * A name is not resolved here (Workers cannot resolve DNS); Cloudflare's own egress never
 * reaches private networks, and the delivery does not follow redirects.
 */
export const MAX_URL_LENGTH = 2048;

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Parses an IPv4 literal in any inet_aton form (a, a.b, a.b.c, a.b.c.d; decimal, 0octal, 0xhex). */
export function parseIPv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length < 1 || parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p.slice(1), 8);
    else if (/^(0|[1-9]\d*)$/.test(p)) n = Number(p);
    else return null;
    if (!Number.isSafeInteger(n)) return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 256 ** (4 - nums.length)) return null;
  const out = [...nums];
  for (let i = 3 - nums.length; i >= 0; i--) out.push(Math.floor(last / 256 ** i) % 256);
  return out;
}

/** Parses an IPv6 literal (without brackets, optional trailing dotted IPv4) into 8 hextets. */
export function parseIPv6(host: string): number[] | null {
  let text = host.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const dotted = text.match(/^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (dotted) {
    const v4 = dotted[2].split(".").map(Number);
    if (v4.some((n) => n > 255)) return null;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    text = dotted[1].endsWith("::") ? dotted[1] : dotted[1].slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) =>
    s === "" ? [] : s.split(":").map((h) => (/^[0-9a-f]{1,4}$/.test(h) ? parseInt(h, 16) : NaN));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if ([...head, ...rest].some(Number.isNaN)) return null;
  const fixed = head.length + rest.length + tail.length;
  if (halves.length === 1 ? fixed !== 8 : fixed > 7) return null;
  return [...head, ...Array(8 - fixed).fill(0), ...rest, ...tail];
}

type Range = [number[], number, string];
const V4_BLOCKED: Range[] = [
  [[0, 0, 0, 0], 8, "unspecified (0.0.0.0/8)"],
  [[10, 0, 0, 0], 8, "private (10/8)"],
  [[100, 64, 0, 0], 10, "CGNAT (100.64/10)"],
  [[169, 254, 0, 0], 16, "link-local / cloud metadata (169.254/16)"],
  [[172, 16, 0, 0], 12, "private (172.16/12)"],
  [[192, 0, 0, 0], 24, "IETF protocol (192.0.0/24)"],
  [[192, 0, 2, 0], 24, "documentation (192.0.2/24)"],
  [[192, 168, 0, 0], 16, "private (192.168/16)"],
  [[198, 18, 0, 0], 15, "benchmarking (198.18/15)"],
  [[198, 51, 100, 0], 24, "documentation (198.51.100/24)"],
  [[203, 0, 113, 0], 24, "documentation (203.0.113/24)"],
  [[224, 0, 0, 0], 4, "multicast (224/4)"],
  [[240, 0, 0, 0], 4, "reserved / broadcast (240/4)"],
];
const inRange = (bytes: number[], [net, bits]: Range) => {
  for (let i = 0; i < bits; i++) {
    const bit = (b: number[], k: number) => (b[k >> 3] >> (7 - (k & 7))) & 1;
    if (bit(bytes, i) !== bit(net, i)) return false;
  }
  return true;
};
const isLoopbackV4 = (b: number[]) => b[0] === 127;

function v4Problem(b: number[], loopbackOk: boolean): string | null {
  if (isLoopbackV4(b)) return loopbackOk ? null : "loopback address (127/8)";
  return V4_BLOCKED.find((r) => inRange(b, r))?.[2] ?? null;
}

function v6Problem(h: number[], loopbackOk: boolean): string | null {
  const bytes = h.flatMap((x) => [x >> 8, x & 255]);
  const embedded = bytes.slice(12);
  const zeros = (n: number) => h.slice(0, n).every((x) => x === 0);
  if (h.every((x) => x === 0)) return "unspecified address (::)";
  if (zeros(7) && h[7] === 1) return loopbackOk ? null : "loopback address (::1)";
  if (zeros(5) && h[5] === 0xffff) return v4Problem(embedded, loopbackOk) ?? null; // IPv4-mapped ::ffff:a.b.c.d
  if (zeros(4) && h[4] === 0xffff && h[5] === 0)
    return v4Problem(embedded, false) ?? "IPv4-translated IPv6 (::ffff:0:0/96)";
  if (zeros(6)) return "IPv4-compatible IPv6 (::/96)";
  if (h[0] === 0x64 && h[1] === 0xff9b) return v4Problem(embedded, false) ?? null; // NAT64 64:ff9b::/96
  if ((h[0] & 0xfe00) === 0xfc00) return "unique-local / cloud metadata (fc00::/7)";
  if ((h[0] & 0xffc0) === 0xfe80) return "link-local (fe80::/10)";
  if ((h[0] & 0xffc0) === 0xfec0) return "site-local (fec0::/10)";
  if ((h[0] & 0xff00) === 0xff00) return "multicast (ff00::/8)";
  if (h[0] === 0x2001 && h[1] === 0x0db8) return "documentation (2001:db8::/32)";
  if (h[0] === 0x2001 && h[1] === 0x0000) return "Teredo tunnel (2001::/32)"; // embeds an IPv4 behind a relay
  if (h[0] === 0x2002) return v4Problem([h[1] >> 8, h[1] & 255, h[2] >> 8, h[2] & 255], false); // 6to4 embeds an IPv4
  return null;
}

const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
]);
const isLoopbackName = (h: string) => h === "localhost" || h.endsWith(".localhost");

/** The verdict on a webhook URL. `environment` is the ENVIRONMENT var ("development" relaxes loopback only). */
export function checkWebhookUrl(raw: string, environment: string | undefined): UrlVerdict {
  const dev = environment === "development";
  if (typeof raw !== "string" || raw.length === 0) return { ok: false, reason: "the URL is empty" };
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `the URL is longer than ${MAX_URL_LENGTH} characters` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\s\u0000-\u001f\\]/.test(raw))
    return { ok: false, reason: "the URL contains whitespace, control characters or backslashes" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not an absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, reason: "only https URLs are allowed" };
  if (url.username || url.password)
    return { ok: false, reason: "credentials in the URL are not allowed; authenticate with the signature" };
  if (url.hash) return { ok: false, reason: "a URL fragment is not allowed" };
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (!host) return { ok: false, reason: "the URL has no host" };

  let loopback = false;
  let problem: string | null = null;
  if (host.startsWith("[")) {
    const h = parseIPv6(host.slice(1, -1));
    if (!h) return { ok: false, reason: "an invalid IPv6 address" };
    const mapped = h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff;
    loopback = (h.slice(0, 7).every((x) => x === 0) && h[7] === 1) || (mapped && h[6] >> 8 === 127);
    problem = v6Problem(h, dev);
  } else if (/^[0-9a-fx.]+$/i.test(host) && parseIPv4(host)) {
    const b = parseIPv4(host)!;
    loopback = isLoopbackV4(b);
    problem = v4Problem(b, dev);
  } else {
    if (METADATA_NAMES.has(host)) return { ok: false, reason: "blocked host: cloud metadata" };
    if (isLoopbackName(host)) {
      loopback = true;
      if (!dev) problem = "localhost names are not allowed";
    } else if (
      host.endsWith(".local") ||
      host.endsWith(".internal") ||
      host.endsWith(".home.arpa") ||
      host.endsWith(".lan") ||
      host.endsWith(".intranet") ||
      host.endsWith(".corp")
    ) {
      problem = "an internal name (.local, .internal, .home.arpa, …)";
    } else if (!host.includes(".")) {
      problem = "a single-label host name (it could resolve to an internal machine)";
    } else if (/^[0-9.]+$/.test(host)) {
      problem = "an invalid IPv4 address";
    }
  }
  if (problem) return { ok: false, reason: `blocked host: ${problem}` };
  if (url.protocol === "http:" && !(dev && loopback))
    return {
      ok: false,
      reason: dev ? "http is allowed only to loopback in development; use https" : "only https URLs are allowed",
    };
  return { ok: true, url };
}
