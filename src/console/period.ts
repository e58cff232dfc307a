/** The cockpit's periods in the viewer's local time: [from, to) and the series interval. */
export type PeriodId = "today" | "yesterday" | "7d" | "30d" | "custom";

export interface Period {
  from: Date;
  to: Date;
  interval: "hour" | "day";
}

const DAY = 86_400_000;
const midnight = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
const addDays = (d: Date, n: number) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);

/** `custom` takes YYYY-MM-DD dates (both days included). */
export function periodOf(id: PeriodId, now = new Date(), custom?: { from: string; to: string }): Period {
  const today = midnight(now);
  switch (id) {
    case "today":
      return { from: today, to: addDays(today, 1), interval: "hour" };
    case "yesterday":
      return { from: addDays(today, -1), to: today, interval: "hour" };
    case "7d":
      return { from: addDays(today, -6), to: addDays(today, 1), interval: "day" };
    case "30d":
      return { from: addDays(today, -29), to: addDays(today, 1), interval: "day" };
    case "custom": {
      const [fy, fm, fd] = (custom?.from ?? "").split("-").map(Number);
      const [ty, tm, td] = (custom?.to ?? "").split("-").map(Number);
      const from = fy ? new Date(fy, fm - 1, fd) : addDays(today, -6);
      const to = ty ? addDays(new Date(ty, tm - 1, td), 1) : addDays(today, 1);
      return { from, to, interval: to.getTime() - from.getTime() <= 2 * DAY ? "hour" : "day" };
    }
  }
}

export const isoDay = (d: Date) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
