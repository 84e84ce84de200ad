// The new-activity form: one flat state (what a draft saves), the fields each kind shows, and
// the conversion to the Activity the store validates. The store has the last word on validity;
// this only catches what would make the request malformed and says so in plain words.
import type { Activity, ActivityKind, Id, WithholdReason } from "./types";
import { isoLocal } from "./format";

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

export function emptyForm(kind = "private-interview", now: Date = new Date()): ActivityFormState {
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

export type Built = { ok: true; activity: Activity; text: string } | { ok: false; error: string };

export function buildActivity(caseId: Id, s: ActivityFormState): Built {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s.date)) return { ok: false, error: "Enter the date it happened." };
  if (!/^\d{2}:\d{2}$/.test(s.time)) return { ok: false, error: "Enter the time it happened (HH:MM)." };
  let duration: number | undefined;
  if (s.duration.trim()) {
    duration = Number(s.duration);
    if (!Number.isInteger(duration) || duration < 1 || duration > 24 * 60) {
      return { ok: false, error: "Duration is a number of minutes, from 1 to 1440, or left empty." };
    }
  }
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
      if (!s.professional.trim()) return { ok: false, error: "Say who was interviewed (name or role)." };
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
      if (!s.raised_with.trim()) return { ok: false, error: "Say who the concern was raised with." };
      kind = {
        type: "concern",
        raised_with: s.raised_with.trim(),
        response_due: opt(s.response_due),
        response: opt(s.response),
      };
      break;
    case "records-request":
      if (!s.record_holder.trim()) return { ok: false, error: "Say who holds the records." };
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
      if (s.topics.length === 0) return { ok: false, error: "Tick at least one topic that was explained." };
      kind = { type: "rights-information", topics: [...s.topics] };
      break;
    case "contact":
      kind = { type: "contact", method: s.method, with_whom: opt(s.with_whom) };
      break;
    case "other":
      kind = { type: "other" };
      break;
    default:
      return { ok: false, error: "Choose what kind of activity this was." };
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
