import { describe, expect, it } from "vitest";
import { businessDay, businessOffsetMs, DAY_MS, HOUR_MS, splitRange } from "../../src/domain/analytics-range";

const CST = 480 * 60_000;
const t = (iso: string) => Date.parse(iso);

describe("splitting a period into days and hours", () => {
  it("reads whole business days from the daily table and the ends by the hour", () => {
    // Business midnight in UTC+8 is 16:00 UTC.
    const s = splitRange(t("2026-11-01T10:00:00Z"), t("2026-11-04T03:00:00Z"), CST);
    expect(s.days).toEqual([t("2026-11-01T16:00:00Z"), t("2026-11-03T16:00:00Z")]);
    expect(s.hours).toEqual([
      [t("2026-11-01T10:00:00Z"), t("2026-11-01T16:00:00Z")],
      [t("2026-11-03T16:00:00Z"), t("2026-11-04T03:00:00Z")],
    ]);
  });

  it("keeps a period shorter than a day, or one inside a day, hourly", () => {
    expect(splitRange(t("2026-11-01T17:00:00Z"), t("2026-11-02T15:00:00Z"), CST)).toEqual({
      hours: [[t("2026-11-01T17:00:00Z"), t("2026-11-02T15:00:00Z")]],
      days: null,
    });
  });

  it("needs no hours for a period of whole days", () => {
    const from = t("2026-11-01T16:00:00Z");
    expect(splitRange(from, from + 7 * DAY_MS, CST)).toEqual({ hours: [], days: [from, from + 7 * DAY_MS] });
  });

  it("covers every hour exactly once", () => {
    for (let k = 0; k < 200; k++) {
      const from = t("2026-11-01T00:00:00Z") + ((k * 7) % 50) * HOUR_MS;
      const to = from + ((k * 13) % 120) * HOUR_MS + HOUR_MS;
      const s = splitRange(from, to, CST);
      const covered = s.hours.reduce((n, [a, b]) => n + (b - a), 0) + (s.days ? s.days[1] - s.days[0] : 0);
      expect(covered).toBe(to - from);
      if (s.days) expect(businessDay(s.days[0], CST)).toBe(s.days[0]);
    }
  });

  it("reads the business offset, defaulting to UTC+8", () => {
    expect(businessOffsetMs("0")).toBe(0);
    expect(businessOffsetMs("-300")).toBe(-300 * 60_000);
    expect(businessOffsetMs(undefined)).toBe(CST);
    expect(businessOffsetMs("")).toBe(CST);
    expect(businessOffsetMs("abc")).toBe(CST);
    expect(businessOffsetMs("2000")).toBe(CST);
  });
});
