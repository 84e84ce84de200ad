import { describe, expect, it } from "vitest";
import { addDays, dayHeading, daysFrom, groupByDay, longDate, stateLine } from "./tasks";
import type { CaseTask } from "./types";

const base: CaseTask = {
  key: "task:1",
  case_id: "c",
  kind: "manual",
  kind_label: "Task",
  title: "Call the solicitor back",
  due: "2026-12-03",
  days_left: 2,
  appointment: false,
  status: "open",
  state: "open",
};

describe("day headings", () => {
  it("says today and tomorrow, then the weekday and date", () => {
    expect(dayHeading("2026-12-01", "2026-12-01")).toBe("Today");
    expect(dayHeading("2026-12-02", "2026-12-01")).toBe("Tomorrow");
    expect(dayHeading("2026-11-30", "2026-12-01")).toBe("Yesterday");
    expect(dayHeading("2026-12-03", "2026-12-01")).toBe("Thursday 3 December");
    expect(longDate("2027-01-04", "2026-12-01")).toBe("Monday 4 January 2027");
  });

  it("counts across the end of a month and a clock change", () => {
    expect(dayHeading("2027-03-29", "2027-03-28")).toBe("Tomorrow");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(daysFrom("2026-11-30", "2026-12-06")).toHaveLength(7);
  });
});

describe("grouping by day", () => {
  it("puts items due the same day under one heading, in order", () => {
    const items = [
      { ...base, due: "2026-12-01", title: "a" },
      { ...base, due: "2026-12-01", title: "b" },
      { ...base, due: "2026-12-02", title: "c" },
      { ...base, due: "2026-12-09", title: "d" },
    ];
    const groups = groupByDay(items, "2026-12-01");
    expect(groups.map((g) => [g.heading, g.items.length])).toEqual([
      ["Today", 2],
      ["Tomorrow", 1],
      ["Wednesday 9 December", 1],
    ]);
  });
});

describe("a task's state in words", () => {
  it("names who did it, the snooze and its reason", () => {
    expect(stateLine({ ...base, state: "done", status: "done", by: "Ann Advocate", at: "2026-12-01T10:00:00Z" })).toMatch(/^Done by Ann Advocate, 1 Dec 2026, \d\d:\d\d$/);
    expect(stateLine({ ...base, state: "snoozed", status: "snoozed", until: "2026-12-04", reason: "On leave", by: "Ann", at: "2026-12-01T10:00:00Z" })).toBe("Snoozed until 4 Dec 2026: On leave (Ann)");
    expect(stateLine({ ...base, status: "overdue", due: "2026-11-28" })).toBe("Overdue since 28 Nov 2026");
    expect(stateLine(base)).toBe("");
  });
});
