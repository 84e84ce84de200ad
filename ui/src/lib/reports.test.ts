import { describe, expect, it } from "vitest";
import {
  cellKey,
  contractFrom,
  targetRows,
  fileNames,
  filesSummary,
  groupTables,
  measureOf,
  parsePeriodValue,
  periodLabel,
  periodProblem,
  periodValue,
  rowHeading,
  tableRows,
  tableTotal,
  targetText,
  targetVerdict,
  valueText,
} from "./reports";

describe("a return's tables", () => {
  it("lists rows largest first, suppressed last, labelled from the coded list", () => {
    const rows = tableRows({ "ward-staff": 12, self: "*", ihma: 12, solicitor: 3 }, (c) =>
      ({ "ward-staff": "Ward staff", self: "The person", solicitor: "Solicitor" })[c] ?? "",
    );
    expect(rows.map((r) => [r.label, r.shown])).toEqual([
      ["ihma", "12"],
      ["Ward staff", "12"],
      ["Solicitor", "3"],
      ["The person", "*"],
    ]);
    expect(rows[3]!.value).toBeNull();
  });

  it("totals only what is all shown", () => {
    expect(tableTotal(tableRows({ a: 2, b: 3 }, () => ""))).toBe(5);
    expect(tableTotal(tableRows({ a: 2, b: "*" }, () => ""))).toBeNull();
  });

  it("groups tables as a manager reads them, unknown ones under Other", () => {
    const g = groupTables(["gender", "referral_source", "hospital", "records_basis", "something_new"]);
    expect(g.map((x) => [x.title, x.tables])).toEqual([
      ["Referrals", ["referral_source", "hospital"]],
      ["Work done", ["records_basis"]],
      ["People referred", ["gender"]],
      ["Other", ["something_new"]],
    ]);
  });

  it("heads a table's first column with what its rows are", () => {
    expect(rowHeading("activity_kind")).toBe("Kind");
    expect(rowHeading("supported_gender")).toBe("Gender");
    expect(rowHeading("something_new")).toBe("Group");
  });

  it("keys a cell's cases as table/code", () => {
    expect(cellKey("activity_kind", "tribunal")).toBe("activity_kind/tribunal");
  });
});

describe("values and targets", () => {
  it("shows a withheld value as a star, a percentage with its sign", () => {
    expect(valueText("*")).toBe("*");
    expect(valueText(null)).toBe("—");
    expect(valueText(80, "first_contact_within_5_working_days_pct")).toBe("80%");
    expect(valueText(2.5)).toBe("2.5");
    expect(valueText(12)).toBe("12");
  });

  it("says a target and whether it was met", () => {
    expect(targetText({ at_least: 90 }, "first_contact_within_5_working_days_pct")).toBe("at least 90%");
    expect(targetText({ at_most: 2 })).toBe("at most 2");
    expect(targetVerdict({ target: { at_least: 90 }, actual: 95, met: true }).text).toBe("Met");
    expect(targetVerdict({ target: { at_least: 90 }, actual: 80, met: false }).tone).toBe("bad");
    expect(targetVerdict({ target: { at_least: 90 }, actual: "*", met: null }).tone).toBe("unknown");
  });

  it("finds a measure's words, or makes some from its key", () => {
    const ms = [{ key: "referrals_received", title: "Referrals received", definition: "Referrals whose…" }];
    expect(measureOf(ms, "referrals_received").title).toBe("Referrals received");
    expect(measureOf(ms, "records_basis").title).toBe("records basis");
  });
});

describe("periods", () => {
  it("round-trips a period through a select's value", () => {
    const p = { from: "2026-07-01", to: "2026-09-30" };
    expect(parsePeriodValue(periodValue(p))).toEqual(p);
    expect(parsePeriodValue("custom")).toBeNull();
  });

  it("checks a period typed by hand", () => {
    expect(periodProblem("", "2026-09-30")?.field).toBe("from");
    expect(periodProblem("2026-07-01", "")?.field).toBe("to");
    expect(periodProblem("2026-07-01", "2026-06-30")?.message).toMatch(/after the first day/);
    expect(periodProblem("2026-07-01", "2026-07-01")).toBeNull();
  });

  it("names a contract's period by its label, a custom one by its days", () => {
    const ps = [{ label: "2026-27 Q2 (Jul-Sep)", from: "2026-07-01", to: "2026-09-30" }];
    const uk = (s: string) => `uk(${s})`;
    expect(periodLabel(ps, "2026-07-01", "2026-09-30", uk)).toBe("2026-27 Q2 (Jul-Sep)");
    expect(periodLabel(ps, "2026-07-01", "2026-08-31", uk)).toBe("uk(2026-07-01) to uk(2026-08-31)");
  });
});

describe("an export's files", () => {
  it("are summed up: CSVs counted, the rest named", () => {
    expect(filesSummary(["return.json", "measures.csv", "gender.csv", "hospital.csv", "return.pdf"])).toEqual([
      "return.json",
      "return.pdf",
      "measures.csv and 2 other CSV files, one per table",
    ]);
    expect(filesSummary(["return.json", "measures.csv"])).toEqual(["return.json", "measures.csv"]);
  });

  it("are listed by name within their folder", () => {
    expect(fileNames("/tmp/out/return-N", ["/tmp/out/return-N/return.pdf", "/tmp/out/return-N/measures.csv"])).toEqual([
      "return.pdf",
      "measures.csv",
    ]);
  });
});

describe("a contract", () => {
  const all = ["referrals_received", "first_contact_within_5_working_days_pct", "gender"];

  it("starts from the targets it has", () => {
    expect(targetRows(["referrals_received", "first_contact_within_5_working_days_pct"], { first_contact_within_5_working_days_pct: { at_least: 90 } })).toEqual([
      { key: "referrals_received", kind: "none", value: "" },
      { key: "first_contact_within_5_working_days_pct", kind: "at_least", value: "90" },
    ]);
  });

  it("is every measure by quarter when everything is ticked and no periods are its own", () => {
    const rows = [{ key: "first_contact_within_5_working_days_pct", kind: "at_least" as const, value: " 95 " }];
    const r = contractFrom("Northshire", all, all, rows, null);
    expect(r.problems).toEqual([]);
    expect(r.contract).toEqual({
      commissioner: "Northshire",
      periods: [],
      measures: [],
      targets: { first_contact_within_5_working_days_pct: { at_least: 95 } },
    });
  });

  it("keeps the measures ticked and its own periods", () => {
    const r = contractFrom("N", all, ["gender"], [], [{ label: " Half 1 ", from: "2026-04-01", to: "2026-09-30" }]);
    expect(r.contract?.measures).toEqual(["gender"]);
    expect(r.contract?.periods).toEqual([{ label: "Half 1", from: "2026-04-01", to: "2026-09-30" }]);
  });

  it("says what is wrong, beside the field", () => {
    const rows = [
      { key: "first_contact_within_5_working_days_pct", kind: "at_least" as const, value: "120" },
      { key: "referrals_received", kind: "at_most" as const, value: "lots" },
    ];
    const r = contractFrom("N", all, [], rows, [{ label: "", from: "2026-04-01", to: "2026-03-01" }], (k) => `“${k}”`);
    expect(r.contract).toBeNull();
    expect(r.problems[1]?.message).toBe("Enter the target for “referrals_received” as a number, 0 or more");
    expect(r.problems[0]?.message).toMatch(/100 or less/);
    expect(r.problems.map((p) => p.field)).toEqual([
      "ct-first_contact_within_5_working_days_pct-value",
      "ct-referrals_received-value",
      "cm-all",
      "cp-0-label",
      "cp-0-to",
    ]);
    expect(contractFrom("N", all, all, [], []).problems[0]?.field).toBe("cp-add");
  });
});
