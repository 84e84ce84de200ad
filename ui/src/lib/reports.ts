// Presenting a commissioner's return: which coded list labels a table's rows, the rows in the
// order a chart shows them, the words for a value that is withheld and for a target, how the
// tables are grouped, and checking a period typed by hand. What is counted, and what is
// suppressed, is decided in Rust (wardside_domain::report).
import type { ReportCell, ReportContract, ReportMeasure, ReportPeriod, ReportTarget, ReturnFormatCode, TargetCheck } from "./types";

/** The coded list (ui.vocab) whose labels name a table's rows; other tables' rows are words. */
export const TABLE_VOCAB: Record<string, string> = {
  referral_source: "referral-source",
  section_at_referral: "status",
  closing_reason: "closure-reason",
  activity_kind: "activity-kind",
  issue_category: "issue-category",
  ethnic_category: "ethnic-category",
  supported_ethnic_category: "ethnic-category",
};

/** The tables in the order a manager reads them, under a heading each. */
export const TABLE_GROUPS: { title: string; tables: string[] }[] = [
  {
    title: "Referrals",
    tables: ["referral_source", "section_at_referral", "eligibility", "not_eligible_why", "repeat_referrals", "out_of_area", "hospital", "hospital_ward"],
  },
  { title: "Caseload", tables: ["instruction", "closing_reason", "length_of_involvement"] },
  { title: "Work done", tables: ["activity_kind", "concern_response", "records_basis"] },
  { title: "Issues and outcomes", tables: ["issue_category", "issue_outcome"] },
  {
    title: "People referred",
    tables: ["ethnic_category", "gender", "age_band", "disability", "religion", "sexual_orientation", "first_language", "interpreter_needed"],
  },
  {
    title: "People supported",
    tables: [
      "supported_ethnic_category",
      "supported_gender",
      "supported_age_band",
      "supported_disability",
      "supported_religion",
      "supported_sexual_orientation",
      "supported_first_language",
      "supported_interpreter_needed",
    ],
  },
];

const ROW_HEADINGS: Record<string, string> = {
  referral_source: "Source",
  section_at_referral: "Legal status",
  eligibility: "Eligibility",
  repeat_referrals: "Referral",
  hospital: "Hospital",
  closing_reason: "Reason",
  instruction: "Instruction",
  activity_kind: "Kind",
  issue_category: "Category",
  issue_outcome: "Outcome",
  ethnic_category: "Ethnic category",
  gender: "Gender",
  age_band: "Age",
  disability: "Disability",
  religion: "Religion or belief",
  sexual_orientation: "Sexual orientation",
  first_language: "First language",
  interpreter_needed: "Interpreter needed",
  not_eligible_why: "Reason",
  out_of_area: "Placed",
  hospital_ward: "Hospital and ward",
  length_of_involvement: "Length",
  concern_response: "Response",
  records_basis: "Basis",
};

/** The heading of a table's first column. */
export function rowHeading(table: string): string {
  return ROW_HEADINGS[table] ?? ROW_HEADINGS[table.replace(/^supported_/, "")] ?? "Group";
}

/** The groups with the tables a return has (a table no group names goes under "Other"). */
export function groupTables(present: string[]): { title: string; tables: string[] }[] {
  const named = new Set(TABLE_GROUPS.flatMap((g) => g.tables));
  const groups = TABLE_GROUPS.map((g) => ({ title: g.title, tables: g.tables.filter((t) => present.includes(t)) }));
  const other = present.filter((t) => !named.has(t)).sort();
  if (other.length) groups.push({ title: "Other", tables: other });
  return groups.filter((g) => g.tables.length > 0);
}

export interface TableRow {
  code: string;
  label: string;
  /** null when suppressed ("*"). */
  value: number | null;
  /** As the table shows it: the number, or "*". */
  shown: string;
}

/** A table's rows, largest first (suppressed ones last), ties by label. */
export function tableRows(table: Record<string, ReportCell>, labelOf: (code: string) => string): TableRow[] {
  return Object.entries(table)
    .map(([code, cell]) => ({
      code,
      label: labelOf(code) || code,
      value: typeof cell === "number" ? cell : null,
      shown: typeof cell === "number" ? String(cell) : "*",
    }))
    .sort((a, b) => (b.value ?? -1) - (a.value ?? -1) || a.label.localeCompare(b.label));
}

/** The total of what a table shows (null when any cell is suppressed: then it is not known here). */
export function tableTotal(rows: TableRow[]): number | null {
  return rows.some((r) => r.value === null) ? null : rows.reduce((n, r) => n + (r.value ?? 0), 0);
}

/** A measure's value as text: a number as it came, "*" for a withheld one, "—" when there is none. */
export function valueText(v: number | string | null | undefined, key = ""): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  const n = Number.isInteger(v) ? String(v) : v.toFixed(1);
  return key.endsWith("_pct") ? `${n}%` : n;
}

/** Whether a value is withheld by suppression. */
export function isSuppressed(v: unknown): boolean {
  return v === "*";
}

/** "at least 90%" / "at most 2". */
export function targetText(t: ReportTarget, key = ""): string {
  const pct = key.endsWith("_pct") ? "%" : "";
  return "at_least" in t ? `at least ${t.at_least}${pct}` : `at most ${t.at_most}${pct}`;
}

/** Whether a target was met, in words a person reads ("Met", "Not met", "Not known: withheld"). */
export function targetVerdict(c: TargetCheck): { text: string; tone: "good" | "bad" | "unknown" } {
  if (c.met === true) return { text: "Met", tone: "good" };
  if (c.met === false) return { text: "Not met", tone: "bad" };
  return { text: "Not known: the number is withheld", tone: "unknown" };
}

/** The key of the cases behind a table's cell. */
export function cellKey(table: string, code: string): string {
  return `${table}/${code}`;
}

/** The title and definition of a measure or table, by key (the key itself when unknown). */
export function measureOf(measures: ReportMeasure[], key: string): ReportMeasure {
  return measures.find((m) => m.key === key) ?? { key, title: key.replace(/_/g, " "), definition: "" };
}

/** A period chosen from a list, by value: "from|to". */
export function periodValue(p: { from: string; to: string }): string {
  return `${p.from}|${p.to}`;
}

export function parsePeriodValue(v: string): { from: string; to: string } | null {
  const m = /^(\d{4}-\d{2}-\d{2})\|(\d{4}-\d{2}-\d{2})$/.exec(v);
  return m ? { from: m[1]!, to: m[2]! } : null;
}

/** What is wrong with a period typed by hand, or null when it will do. */
export function periodProblem(from: string, to: string): { field: "from" | "to"; message: string } | null {
  if (!from) return { field: "from", message: "Enter the first day of the period" };
  if (!to) return { field: "to", message: "Enter the last day of the period" };
  if (to < from) return { field: "to", message: "The last day must be the same as or after the first day" };
  return null;
}

/** The label of a period from the contract's list, or "custom" words for one typed by hand. */
export function periodLabel(periods: ReportPeriod[], from: string, to: string, ukDate: (iso: string) => string): string {
  return periods.find((p) => p.from === from && p.to === to)?.label ?? `${ukDate(from)} to ${ukDate(to)}`;
}

export const FORMATS: { code: ReturnFormatCode; label: string }[] = [
  { code: "pdf", label: "PDF (to read and send)" },
  { code: "csv", label: "CSV (one file per table)" },
  { code: "xlsx", label: "Excel workbook" },
  { code: "json", label: "JSON (machine-readable)" },
];

/** The file names of an export, relative to its folder, for the message after it. */
export function fileNames(folder: string, files: string[]): string[] {
  const prefix = folder.endsWith("/") ? folder : `${folder}/`;
  return files.map((f) => (f.startsWith(prefix) ? f.slice(prefix.length) : f));
}

/** The files of an export as a short list: the PDF, workbook and JSON by name, the CSVs as
 * `measures.csv` and a count of the others (one per table). */
export function filesSummary(names: string[]): string[] {
  const csv = names.filter((n) => n.endsWith(".csv"));
  const others = names.filter((n) => !n.endsWith(".csv"));
  if (csv.length <= 2) return [...others, ...csv];
  const first = csv.includes("measures.csv") ? "measures.csv" : csv[0]!;
  return [...others, `${first} and ${csv.length - 1} other CSV files, one per table`];
}

// ---- a commissioner's contract: its periods, the measures it asks for, its targets ----

export type TargetKind = "none" | "at_least" | "at_most";

export interface TargetRow {
  key: string;
  kind: TargetKind;
  /** As typed. */
  value: string;
}

export interface PeriodRow {
  label: string;
  from: string;
  to: string;
}

/** One row per headline measure, with the target the contract has now. */
export function targetRows(headline: string[], targets: Record<string, ReportTarget>): TargetRow[] {
  return headline.map((key) => {
    const t = targets[key];
    if (!t) return { key, kind: "none", value: "" };
    return "at_least" in t ? { key, kind: "at_least", value: String(t.at_least) } : { key, kind: "at_most", value: String(t.at_most) };
  });
}

export interface ContractProblem {
  /** The id of the field to put the message beside. */
  field: string;
  message: string;
}

/**
 * The contract the form describes, or what is wrong with it. `asked` are the measures ticked;
 * all of them ticked means every measure (an empty list, so new measures are included too).
 */
export function contractFrom(
  commissioner: string,
  allKeys: string[],
  asked: string[],
  targets: TargetRow[],
  ownPeriods: PeriodRow[] | null,
  titleOf: (key: string) => string = (key) => key,
): { contract: ReportContract | null; problems: ContractProblem[] } {
  const problems: ContractProblem[] = [];
  const out: Record<string, ReportTarget> = {};
  for (const t of targets) {
    if (t.kind === "none") continue;
    const n = Number(t.value.trim());
    if (t.value.trim() === "" || !Number.isFinite(n) || n < 0) {
      problems.push({ field: `ct-${t.key}-value`, message: `Enter the target for ${titleOf(t.key)} as a number, 0 or more` });
    } else if (t.key.endsWith("_pct") && n > 100) {
      problems.push({ field: `ct-${t.key}-value`, message: `The target for ${titleOf(t.key)} is a percentage: 100 or less` });
    } else {
      out[t.key] = t.kind === "at_least" ? { at_least: n } : { at_most: n };
    }
  }
  if (asked.length === 0) problems.push({ field: "cm-all", message: "Choose at least one measure the commissioner asks for" });
  const periods: ReportPeriod[] = [];
  (ownPeriods ?? []).forEach((p, i) => {
    if (!p.label.trim()) problems.push({ field: `cp-${i}-label`, message: `Enter a name for period ${i + 1}` });
    const bad = periodProblem(p.from, p.to);
    if (bad) problems.push({ field: `cp-${i}-${bad.field}`, message: bad.message });
    else if (p.label.trim()) periods.push({ label: p.label.trim(), from: p.from, to: p.to });
  });
  if (ownPeriods && ownPeriods.length === 0) problems.push({ field: "cp-add", message: "Add at least one period, or choose financial-year quarters" });
  if (problems.length) return { contract: null, problems };
  const every = allKeys.every((k) => asked.includes(k));
  return {
    contract: { commissioner, periods, measures: every ? [] : allKeys.filter((k) => asked.includes(k)), targets: out },
    problems,
  };
}
