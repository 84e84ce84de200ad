import { describe, expect, it } from "vitest";
import { daysLeft, initials, isLongText, plural, ukDate, ukDateTime } from "./format";
import { strength } from "./strength";
import { throttle } from "./throttle";

describe("UK formats", () => {
  it("shows dates day first with a short month", () => {
    expect(ukDate("2026-11-05")).toBe("5 Nov 2026");
    expect(ukDateTime("2026-02-28T09:07:00")).toBe("28 Feb 2026, 09:07");
    expect(ukDate("")).toBe("");
    expect(ukDate("not a date")).toBe("not a date");
  });
  it("says 1 year, 2 years and 1 entry, 3 entries", () => {
    expect(plural(1, "year")).toBe("1 year");
    expect(plural(2, "year")).toBe("2 years");
    expect(plural(0, "note")).toBe("0 notes");
    expect(plural(1, "entry", "entries")).toBe("1 entry");
    expect(plural(3, "entry", "entries")).toBe("3 entries");
    expect(plural(-1, "day")).toBe("-1 day");
  });
  it("folds notes longer than about ten lines", () => {
    expect(isLongText("A short note.")).toBe(false);
    expect(isLongText("x".repeat(901))).toBe(true);
    expect(isLongText(Array(11).fill("line").join("\n"))).toBe(true);
    expect(isLongText(Array(10).fill("line").join("\n"))).toBe(false);
  });
  it("words reminder distances", () => {
    expect(daysLeft(0)).toBe("today");
    expect(daysLeft(1)).toBe("tomorrow");
    expect(daysLeft(-3)).toBe("3 days ago");
    expect(daysLeft(12)).toBe("in 12 days");
    expect(daysLeft(-1)).toBe("yesterday");
    expect(daysLeft(-2)).toBe("2 days ago");
  });
  it("makes initials from names in any script", () => {
    expect(initials("Siân Ap Dafydd")).toBe("S.A.D.");
    expect(initials("Łucja  Wiśniewska")).toBe("Ł.W.");
  });
});

describe("passphrase strength", () => {
  it("matches the store's floor and rewards length", () => {
    expect(strength("short").score).toBe(0);
    expect(strength(" leading space ok?").score).toBe(0);
    expect(strength("aaaaaaaaaaaa").score).toBeLessThanOrEqual(1);
    expect(strength("password123").score).toBeLessThanOrEqual(1);
    expect(strength("kettle orbit marmalade lantern").score).toBe(4);
  });
});

describe("throttle", () => {
  it("lets one call through per interval", () => {
    let t = 0;
    let calls = 0;
    const f = throttle(() => calls++, 1000, () => t);
    f();
    f();
    t = 999;
    f();
    t = 1000;
    f();
    expect(calls).toBe(2);
  });
});

import { parseUkDate, ukNumericDate } from "./format";

describe("typed UK dates", () => {
  const today = new Date(2026, 10, 25);
  it("reads day first, in the ways people type it", () => {
    expect(parseUkDate("25/11/2026", today)).toBe("2026-11-25");
    expect(parseUkDate("5/1/26", today)).toBe("2026-01-05");
    expect(parseUkDate("05.01.2026", today)).toBe("2026-01-05");
    expect(parseUkDate("3 Dec 2026", today)).toBe("2026-12-03");
    expect(parseUkDate("3rd december 2026", today)).toBe("2026-12-03");
    expect(parseUkDate("2026-11-25", today)).toBe("2026-11-25");
    expect(parseUkDate("yesterday", today)).toBe("2026-11-24");
    expect(parseUkDate("tomorrow", new Date(2026, 11, 31))).toBe("2027-01-01");
  });
  it("refuses dates that do not exist and US order", () => {
    expect(parseUkDate("31/11/2026", today)).toBeNull();
    expect(parseUkDate("29/02/2027", today)).toBeNull();
    expect(parseUkDate("11/25/2026", today)).toBeNull();
    expect(parseUkDate("next week", today)).toBeNull();
  });
  it("shows stored dates back day first", () => {
    expect(ukNumericDate("2026-01-05")).toBe("05/01/2026");
    expect(ukNumericDate("")).toBe("");
  });
});

describe("the app's clock", () => {
  it("follows the store's clock, not the webview's", async () => {
    const { setAppNow, appNow, todayIso } = await import("./format");
    setAppNow("2026-03-10T09:30:00", Date.now());
    expect(todayIso()).toBe("2026-03-10");
    expect(Math.abs(appNow().getTime() - new Date("2026-03-10T09:30:00").getTime())).toBeLessThan(5000);
    setAppNow("not a time");
    expect(Math.abs(appNow().getTime() - Date.now())).toBeLessThan(5000);
  });
});
