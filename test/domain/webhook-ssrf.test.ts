/** The webhook URL policy (pure): what may be called in production and in development. */
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, parseIPv4, parseIPv6 } from "../../src/security/ssrf";

const prod = (url: string) => checkWebhookUrl(url, "production");
const dev = (url: string) => checkWebhookUrl(url, "development");
const reason = (v: ReturnType<typeof prod>) => (v.ok ? "ok" : v.reason);

describe("webhook URL policy", () => {
  it("allows public https in every environment", () => {
    for (const url of [
      "https://partner.example.com/hooks",
      "https://8.8.8.8/x",
      "https://[2606:4700::1111]/x",
      "https://example.com:8443/a?b=c",
    ]) {
      expect(reason(prod(url)), url).toBe("ok");
      expect(reason(dev(url)), url).toBe("ok");
    }
  });

  it("refuses http outside development, and in development allows it only to loopback", () => {
    expect(reason(prod("http://partner.example.com/x"))).toBe("only https URLs are allowed");
    expect(reason(dev("http://partner.example.com/x"))).toMatch(/only to loopback/);
    for (const url of [
      "http://127.0.0.1:8787/x",
      "http://localhost:3000/x",
      "http://hooks.localhost/x",
      "http://[::1]:9000/x",
      "http://127.1/x",
    ]) {
      expect(reason(dev(url)), url).toBe("ok");
      expect(prod(url).ok, url).toBe(false);
    }
    expect(prod("https://localhost/x").ok).toBe(false);
    expect(prod("https://127.0.0.1/x").ok).toBe(false);
  });

  it("refuses private, link-local, CGNAT, unique-local, multicast, unspecified and metadata addresses in any spelling", () => {
    const blocked = [
      "https://10.0.0.1/",
      "https://172.16.5.4/",
      "https://172.31.255.255/",
      "https://192.168.0.1/",
      "https://100.64.0.1/",
      "https://100.100.100.200/",
      "https://169.254.169.254/latest/meta-data/",
      "https://0.0.0.0/",
      "https://224.0.0.1/",
      "https://255.255.255.255/",
      "https://198.18.0.1/",
      "https://2852039166/",
      "https://0xa9fea9fe/",
      "https://0251.0376.0251.0376/",
      "https://0xA9.0xFE.0xA9.0xFE/",
      "https://169.254.43518/",
      "https://10.1/",
      "https://[::]/",
      "https://[::ffff:169.254.169.254]/",
      "https://[::ffff:a9fe:a9fe]/",
      "https://[::ffff:10.0.0.1]/",
      "https://[fd00:ec2::254]/",
      "https://[fc00::1]/",
      "https://[fe80::1]/",
      "https://[ff02::1]/",
      "https://[64:ff9b::a9fe:a9fe]/",
      "https://[2002:a9fe:a9fe::1]/",
      "https://[::10.0.0.1]/",
      "https://[::ffff:0:7f00:1]/",
      "https://[::ffff:0:a00:1]/",
      "https://[::ffff:0:808:808]/",
      "https://[2001::1]/",
      "https://[2001:0:4136:e378::1]/",
    ];
    for (const url of blocked) {
      expect(prod(url).ok, url).toBe(false);
      expect(dev(url).ok, url).toBe(false);
      expect(reason(prod(url)), url).toMatch(/^blocked host: /);
    }
    expect(reason(prod("https://169.254.169.254/"))).toMatch(/metadata/);
    expect(reason(prod("https://[::ffff:127.0.0.1]/"))).toMatch(/loopback/);
    expect(reason(dev("http://[::ffff:127.0.0.1]/"))).toBe("ok");
  });

  it("refuses internal names, credentials, fragments, other schemes and overlong URLs", () => {
    for (const url of [
      "https://metadata.google.internal/",
      "https://metadata/",
      "https://printer.local/",
      "https://db.internal/",
      "https://intranet/",
      "https://router.home.arpa/",
    ]) {
      expect(prod(url).ok, url).toBe(false);
    }
    expect(reason(prod("https://user:pass@example.com/"))).toMatch(/credentials/);
    expect(reason(prod("https://user@example.com/"))).toMatch(/credentials/);
    expect(reason(prod("https://example.com/#x"))).toMatch(/fragment/);
    for (const url of [
      "ftp://example.com/",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "gopher://example.com/",
      "not a url",
      "",
      "https://exa mple.com/",
      "https:\\\\example.com",
    ]) {
      expect(prod(url).ok, url).toBe(false);
    }
    expect(reason(prod(`https://example.com/${"a".repeat(2100)}`))).toMatch(/longer than/);
  });

  it("parses every IPv4 and IPv6 form it judges", () => {
    expect(parseIPv4("2130706433")).toEqual([127, 0, 0, 1]);
    expect(parseIPv4("0x7f.1")).toEqual([127, 0, 0, 1]);
    expect(parseIPv4("017700000001")).toEqual([127, 0, 0, 1]);
    expect(parseIPv4("10.0.258")).toEqual([10, 0, 1, 2]);
    expect(parseIPv4("256.1.1.1")).toBeNull();
    expect(parseIPv4("1.2.3.4.5")).toBeNull();
    expect(parseIPv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIPv6("2001:db8::1")).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6("1::2::3")).toBeNull();
    expect(parseIPv6("1:2:3:4:5:6:7:8:9")).toBeNull();
  });
});
