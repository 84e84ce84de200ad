// The new-activity form: one flat state (what a draft saves), the fields each kind shows, and
// the conversion to the Activity the store validates. The store has the last word on validity;
// this only catches what would make the request malformed and says so in plain words.
import type { Activity, ActivityKind, Id, WithholdReason } from "./types";
import { appNow, isoLocal } from "./format";

export interface ActivityFormState {
  kind: string;
  date: string; // YYYY-MM-DD
  time: string; // HH:MM
  duration: string;
  wishes: string;
  professional: string;
  points: string; // one point per line
  response: string;
  hearing_on: string;
  outcome: string;
  raised_with: string;
  response_due: string;
  record_holder: string;
  basis: "consent" | "lacks-capacity";
  capacity_assessment: string;
  no_conflicting_decision_checked: boolean;
  holder_decision: string;
  records_requested: string;
  seen_on: string;
  what_was_seen: string;
  withhold_from_patient: boolean;
  topics: string[];
  method: string;
  with_whom: string;
  /** "" or a withholding reason: kept out of what the person is given. */
  withheld: "" | WithholdReason;
  text: string;
}

export type FieldKey = Exclude<keyof ActivityFormState, "kind" | "date" | "time" | "duration" | "text" | "withheld">;

/** The kind-specific fields, in the order they are shown. */
export const FIELDS: Record<string, FieldKey[]> = {
  "private-interview": ["wishes"],
  "professional-interview": ["professional"],
  "ward-round": ["points", "response"],
  "cpa-review": ["points", "response"],
  tribunal: ["hearing_on", "outcome"],
  "managers-hearing": ["hearing_on", "outcome"],
  concern: ["raised_with", "response_due", "response"],
  "records-request": [
    "record_holder",
    "basis",
    "capacity_assessment",
    "no_conflicting_decision_checked",
    "holder_decision",
    "records_requested",
    "seen_on",
    "what_was_seen",
    "withhold_from_patient",
  ],
  "rights-information": ["topics"],
  contact: ["method", "with_whom"],
  other: [],
};

/** Fields shown only for one records basis. */
export const LACKS_CAPACITY_ONLY: FieldKey[] = [
  "capacity_assessment",
  "no_conflicting_decision_checked",
  "holder_decision",
];

export function visibleFields(s: Pick<ActivityFormState, "kind" | "basis">): FieldKey[] {
  const fields = FIELDS[s.kind] ?? [];
  return s.basis === "lacks-capacity" ? fields : fields.filter((f) => !LACKS_CAPACITY_ONLY.includes(f));
}

export function emptyForm(kind = "private-interview", now: Date = appNow()): ActivityFormState {
  const local = isoLocal(now);
  return {
    kind,
    date: local.slice(0, 10),
    time: local.slice(11, 16),
    duration: "",
    wishes: "",
    professional: "",
    points: "",
    response: "",
    hearing_on: "",
    outcome: "",
    raised_with: "",
    response_due: "",
    record_holder: "",
    basis: "consent",
    capacity_assessment: "",
    no_conflicting_decision_checked: false,
    holder_decision: "",
    records_requested: "",
    seen_on: "",
    what_was_seen: "",
    withhold_from_patient: false,
    topics: [],
    method: "phone",
    with_whom: "",
    withheld: "",
    text: "",
  };
}

/** A saved draft's form, merged over an empty one so older drafts still load. */
/** The form filled in from a saved activity, to correct its details (the note is not here). */
export function formFromActivity(a: Activity): ActivityFormState {
  const f = emptyForm(a.kind.type);
  f.date = a.at.slice(0, 10);
  f.time = a.at.slice(11, 16);
  f.duration = a.duration_minutes ? String(a.duration_minutes) : "";
  f.withheld = a.withheld ?? "";
  const k = a.kind;
  switch (k.type) {
    case "private-interview":
      f.wishes = k.wishes ?? "";
      break;
    case "professional-interview":
      f.professional = k.professional;
      break;
    case "ward-round":
    case "cpa-review":
      f.points = k.points_raised.join("\n");
      f.response = k.response ?? "";
      break;
    case "tribunal":
    case "managers-hearing":
      f.hearing_on = k.hearing_on ?? "";
      f.outcome = k.outcome ?? "";
      break;
    case "concern":
      f.raised_with = k.raised_with;
      f.response_due = k.response_due ?? "";
      f.response = k.response ?? "";
      break;
    case "records-request":
      f.record_holder = k.record_holder;
      f.records_requested = k.records_requested ?? "";
      f.seen_on = k.seen_on ?? "";
      f.what_was_seen = k.what_was_seen ?? "";
      f.withhold_from_patient = k.withhold_from_patient;
      if (k.basis.basis === "patient-consent") f.basis = "consent";
      else {
        f.basis = "lacks-capacity";
        f.capacity_assessment = k.basis.capacity_assessment ?? "";
        f.no_conflicting_decision_checked = k.basis.no_conflicting_decision_checked;
        f.holder_decision = k.basis.holder_decision ?? "";
      }
      break;
    case "rights-information":
      f.topics = [...k.topics];
      break;
    case "contact":
      f.method = k.method;
      f.with_whom = k.with_whom ?? "";
      break;
  }
  return f;
}

export function restoreForm(saved: unknown): ActivityFormState {
  const base = emptyForm();
  if (!saved || typeof saved !== "object") return base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(saved as Record<string, unknown>)) {
    const baseValue = (base as unknown as Record<string, unknown>)[k];
    if (k in base && typeof v === typeof baseValue && Array.isArray(v) === Array.isArray(baseValue)) {
      out[k] = v;
    }
  }
  return out as unknown as ActivityFormState;
}

const opt = (s: string): string | undefined => (s.trim() ? s.trim() : undefined);

/** One thing to put right, against the form's field (its name in ActivityFormState). */
export interface FormProblem {
  field: string;
  message: string;
}

export type Built = { ok: true; activity: Activity; text: string } | { ok: false; problems: FormProblem[] };

/** The record's field names (as Wardside's checks name them) → this form's fields. */
export const RECORD_FIELDS: Record<string, string> = {
  at: "date",
  duration: "duration",
  text: "text",
  points: "points",
  no_conflicting_decision_checked: "no_conflicting_decision_checked",
};

/**
 * Check and build. `invalid` names the date fields where something was typed that is not a
 * real date (the DateField says so); every problem is returned, in the order of the form.
 */
export function buildActivity(caseId: Id, s: ActivityFormState, invalid: Record<string, boolean> = {}, needText = true): Built {
  const problems: FormProblem[] = [];
  const need = (ok: boolean, field: string, message: string) => {
    if (!ok) problems.push({ field, message });
  };
  if (invalid["date"]) need(false, "date", "Date must be a real date, typed day first (for example 25/11/2026)");
  else need(/^\d{4}-\d{2}-\d{2}$/.test(s.date), "date", "Enter the date it happened");
  need(/^\d{2}:\d{2}$/.test(s.time), "time", "Enter the time it happened, for example 14:30");
  let duration: number | undefined;
  if (s.duration.trim()) {
    duration = Number(s.duration);
    need(Number.isInteger(duration) && duration >= 1 && duration <= 24 * 60, "duration", "Minutes must be a whole number from 1 to 1440, or left empty");
  }
  const DATE_NAMES: Record<string, string> = {
    hearing_on: "The hearing date",
    response_due: "The response due date",
    seen_on: "The date the records were seen",
  };
  for (const [f, name] of Object.entries(DATE_NAMES)) {
    if (invalid[f]) need(false, f, `${name} must be a real date, typed day first (for example 25/11/2026)`);
  }
  if (s.kind === "professional-interview") need(!!s.professional.trim(), "professional", "Enter who was interviewed (name or role)");
  if (s.kind === "concern") need(!!s.raised_with.trim(), "raised_with", "Enter who the concern was raised with");
  if (s.kind === "records-request") {
    need(!!s.record_holder.trim(), "record_holder", "Enter who holds the records");
    if (s.basis !== "consent")
      need(s.no_conflicting_decision_checked, "no_conflicting_decision_checked", "Confirm that no attorney, deputy or Court of Protection decision conflicts");
  }
  if (s.kind === "rights-information") need(s.topics.length > 0, "topics", "Select at least one topic that was explained");
  if (needText) need(!!s.text.trim(), "text", "Enter the note");
  if (problems.length) return { ok: false, problems };
  const points = s.points
    .split("\n")
    .map((p) => p.trim())
    .filter(Boolean);
  let kind: ActivityKind;
  switch (s.kind) {
    case "private-interview":
      kind = { type: "private-interview", wishes: opt(s.wishes) };
      break;
    case "professional-interview":
      kind = { type: "professional-interview", professional: s.professional.trim() };
      break;
    case "ward-round":
    case "cpa-review":
      kind = { type: s.kind, points_raised: points, response: opt(s.response) };
      break;
    case "tribunal":
    case "managers-hearing":
      kind = { type: s.kind, hearing_on: opt(s.hearing_on), outcome: opt(s.outcome) };
      break;
    case "concern":
      kind = {
        type: "concern",
        raised_with: s.raised_with.trim(),
        response_due: opt(s.response_due),
        response: opt(s.response),
      };
      break;
    case "records-request":
      kind = {
        type: "records-request",
        record_holder: s.record_holder.trim(),
        basis:
          s.basis === "consent"
            ? { basis: "patient-consent" }
            : {
                basis: "lacks-capacity-record-holder-decision",
                capacity_assessment: opt(s.capacity_assessment),
                no_conflicting_decision_checked: s.no_conflicting_decision_checked,
                holder_decision: opt(s.holder_decision),
              },
        records_requested: opt(s.records_requested),
        seen_on: opt(s.seen_on),
        what_was_seen: opt(s.what_was_seen),
        withhold_from_patient: s.withhold_from_patient,
      };
      break;
    case "rights-information":
      kind = { type: "rights-information", topics: [...s.topics] };
      break;
    case "contact":
      kind = { type: "contact", method: s.method, with_whom: opt(s.with_whom) };
      break;
    case "other":
      kind = { type: "other" };
      break;
    default:
      return { ok: false, problems: [{ field: "kind", message: "Choose what kind of activity this was" }] };
  }
  const activity: Activity = { case_id: caseId, at: `${s.date}T${s.time}:00`, kind };
  if (duration !== undefined) activity.duration_minutes = duration;
  if (s.withheld) activity.withheld = s.withheld;
  return { ok: true, activity, text: s.text };
}

/** Whether anything worth keeping has been typed (an untouched form is not a draft). */
export function hasContent(s: ActivityFormState): boolean {
  const blank = emptyForm(s.kind);
  return (Object.keys(s) as (keyof ActivityFormState)[]).some((k) => {
    if (k === "date" || k === "time" || k === "kind" || k === "method" || k === "basis" || k === "withheld") return false;
    return JSON.stringify(s[k]) !== JSON.stringify(blank[k]);
  });
}
