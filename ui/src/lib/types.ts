// The shapes the Rust commands send and take (serde's JSON of the domain and store types).
// Dates are "YYYY-MM-DD"; date-times are local UK "YYYY-MM-DDTHH:MM:SS".

export type Id = string;
export type Stored<T> = T & { id: Id };

export interface Choice {
  code: string;
  label: string;
}
export type Vocabulary = Record<string, Choice[]>;

export interface AppError {
  code: string;
  message: string;
  /** The record field a validation error is about (e.g. "at", "nhs_number", "reason"). */
  field?: string;
}

export interface Settings {
  idle_lock_minutes: number;
  theme: "system" | "light" | "dark";
  reminder_days: number;
  /** All text, in percent of the normal size. */
  text_size: number;
}

export interface SessionStatus {
  store_exists: boolean;
  unlocked: boolean;
  store_path: string;
  demo_passphrase: string | null;
  settings: Settings;
  /** The app's clock, UK local time ("2026-11-25T14:05:00"): the forms' today and now. */
  now: string;
}

export type LockReason = "manual" | "idle" | "suspend";

export interface CaseFlag {
  kind: "open-long" | "no-recent-activity";
  text: string;
}

export interface CaseloadRow {
  case_id: Id;
  client_id: Id;
  name: string;
  hospital: string | null;
  ward: string | null;
  status: string | null;
  status_since: string | null;
  opened_on: string;
  closed_on: string | null;
  advocate_id: Id | null;
  last_activity: string | null;
  flags: CaseFlag[];
  /** Under 18 today (s131A, s58A). */
  under_18: boolean;
}

export interface CaseloadFilter {
  hospital?: string | null;
  ward?: string | null;
  status?: string | null;
  advocate?: Id | null;
  include_closed?: boolean;
  /** Part of a name, an NHS number or a hospital number. */
  name?: string | null;
  /** Only this store's own advocate's cases. */
  mine?: boolean;
}

export interface Reminder {
  kind: string;
  due: string;
  days_left: number;
  text: string;
  source: string;
  guidance: string;
}

export interface DueReminder extends Reminder {
  case_id: Id;
  client_id: Id;
  name: string;
}

export interface DueList {
  upcoming: DueReminder[];
  past_due: DueReminder[];
  past_due_total: number;
}

export interface Facets {
  hospitals: string[];
  wards: { hospital: string; ward: string }[];
  advocates: Stored<{ name: string }>[];
}

export interface Equality {
  ethnic_category: string;
  gender?: string;
  gender_reassignment?: boolean;
  sexual_orientation?: string;
  religion?: string;
  disability?: boolean;
  marital_status?: string;
  pregnancy_or_maternity?: boolean;
}

export interface Client {
  name: string;
  dob?: string;
  nhs_number?: string;
  hospital_number?: string;
  hospital?: string;
  ward?: string;
  first_language?: string;
  interpreter_needed: boolean;
  objects_to_relative_being_informed: boolean;
  equality: Equality;
  /** The organisation's team that keeps this person's record (absent: the laptop's first team). */
  team?: string | null;
}

export type Instruction =
  | { mode: "instructed" }
  | { mode: "non-instructed"; approach: string; reason: string };

export interface Closure {
  on: string;
  reason: string;
  note?: string;
}

export interface Case {
  client_id: Id;
  referral_id?: Id;
  opened_on: string;
  advocate_id?: Id;
  team_id?: Id;
  instruction: Instruction;
  responsible_authority?: string;
  closed?: Closure;
}

export interface LegalEvent {
  client_id: Id;
  on: string;
  event: string;
  status?: string;
  applicant?: string;
  outcome?: string | null;
  note?: string;
}

export interface Relative {
  client_id: Id;
  role: string;
  name: string;
  relationship?: string;
  contact?: string;
  ceased_on?: string;
}

export interface Consent {
  client_id: Id;
  scope: string;
  state: string;
  on: string;
  how?: string;
  witness?: string;
  note?: string;
}

export interface IssueOutcome {
  kind: string;
  on: string;
  note?: string;
}

export interface Issue {
  case_id: Id;
  category: string;
  summary: string;
  opened_on: string;
  outcome?: IssueOutcome;
}

export interface SafeguardingEvent {
  case_id: Id;
  kind: string;
  at: string;
  reason: string;
  who_was_told: string;
  discussed_with_person_first: boolean;
  why_not_discussed?: string;
  manager: string;
  reference?: string;
  withheld?: WithholdReason;
}

export type RecordsBasis =
  | { basis: "patient-consent" }
  | {
      basis: "lacks-capacity-record-holder-decision";
      capacity_assessment?: string;
      no_conflicting_decision_checked: boolean;
      holder_decision?: string;
    };

export type ActivityKind =
  | { type: "private-interview"; wishes?: string }
  | { type: "professional-interview"; professional: string }
  | { type: "ward-round"; points_raised: string[]; response?: string }
  | { type: "cpa-review"; points_raised: string[]; response?: string }
  | { type: "tribunal"; hearing_on?: string; outcome?: string }
  | { type: "managers-hearing"; hearing_on?: string; outcome?: string }
  | { type: "concern"; raised_with: string; response_due?: string; response?: string }
  | {
      type: "records-request";
      record_holder: string;
      basis: RecordsBasis;
      records_requested?: string;
      seen_on?: string;
      what_was_seen?: string;
      withhold_from_patient: boolean;
    }
  | { type: "rights-information"; topics: string[] }
  | { type: "contact"; method: string; with_whom?: string }
  | { type: "other" };

export type WithholdReason = "third-party" | "serious-harm" | "records-material";

export interface Activity {
  case_id: Id;
  at: string;
  duration_minutes?: number;
  kind: ActivityKind;
  /** Kept out of everything the person is given (their copy, subject access). */
  withheld?: WithholdReason;
}

export type ExportKind = "case-file" | "patient-copy" | "subject-access" | "hearing";

export interface Exported {
  paths: string[];
}

/** The name each export is offered under; "subject-access" is the stem of its two files. */
export interface ExportFileNames {
  "case-file": string;
  "patient-copy": string;
  "subject-access": string;
  hearing: string | null;
}

export interface TimelineEntry extends Activity {
  id: Id;
  kind_label: string;
  text: string;
  versions: number;
  last_saved_at: string | null;
}

export interface Eligibility {
  eligible: boolean;
  reason: string;
  source: string;
}

export interface Draft {
  case_id: Id;
  form: unknown;
  body: string;
  saved_at: string;
}

export interface CaseScreen {
  case: Stored<Case>;
  client: Stored<Client>;
  current_status: { status: string; since: string; label: string } | null;
  legal_history: Stored<LegalEvent>[];
  relatives: Stored<Relative>[];
  consents: Stored<Consent>[];
  issues: Stored<Issue>[];
  safeguarding: Stored<SafeguardingEvent>[];
  advocate: Stored<{ name: string }> | null;
  timeline: TimelineEntry[];
  guidance: { eligibility: Eligibility; reminders: Reminder[] };
  draft: Draft | null;
  /** Corrections after the fact: activities' details amended, the case reopened. */
  amendments: Stored<Amendment>[];
  today: string;
  /** The person is under 18 today (s131A, s58A). */
  under_18: boolean;
  /** The referral the case was opened from. */
  referral: { received_on: string; source: string; eligible?: boolean; responsible_authority?: string; out_of_area?: boolean } | null;
  /** The tribunal position in one line ("Can apply to the tribunal now, until 27 Apr 2027"). */
  tribunal: TribunalPosition;
}

export interface NoteVersion {
  version_id: Id;
  parents: Id[];
  body: string;
  reason: string | null;
  author: string;
  saved_at: string;
}

/** A person a search found, with the case to open (the open one, else the latest). */
export interface PersonHit {
  client_id: Id;
  name: string;
  dob: string | null;
  nhs_number: string | null;
  hospital_number: string | null;
  hospital: string | null;
  ward: string | null;
  matched_on: "name" | "nhs-number" | "hospital-number";
  under_18: boolean;
  case_id: Id | null;
  case_open: boolean;
}

export interface LikelyDuplicate extends PersonHit {
  reason: "same-nhs-number" | "same-name-and-date-of-birth";
}

export interface SearchHit {
  case: Id;
  activity: Id;
  at: string;
  snippet: string;
  client_name: string;
  kind_label: string;
}

export interface AuditEntry {
  at: string;
  actor: string;
  device_id: string;
  action: string;
  entity: string;
  entity_id: string | null;
}

export interface Intake {
  client: Client;
  status: string;
  status_since: string;
  referral: { received_on: string; source: string; referrer?: string; inpatient?: boolean; responsible_authority?: string; out_of_area?: boolean } | null;
  case: { opened_on: string; instruction: Instruction; responsible_authority?: string } | null;
}

export interface IntakeResult {
  client_id: Id;
  referral_id: Id | null;
  case_id: Id | null;
}

// ---- sync ----

export interface SyncSummary {
  enrolled: boolean;
  status: string | null;
  last_sync: string | null;
  unsynced: number;
  conflicts: number;
  inbox: number;
  held: number;
  /** How many problems the last sync found (listed in SyncView.problems). */
  problems: number;
}

export interface SyncConfig {
  server: string;
  org_id: Id;
  teams: Id[];
  admin: boolean;
  /** approved | pending | revoked | re-enrol */
  status: string;
  fingerprint: string;
  name: string;
}

/**
 * Something the last sync found wrong, by device and place in its history (never content):
 * gap | tampered | unknown-device | not-member | after-revocation | other-organisation |
 * malformed | forked | broken-chain | cannot-apply | not-kept | lost-by-service | trust-log |
 * key-refused | waiting-for-key | push-refused | counts (more may come: show any kind).
 */
export interface SyncProblem {
  kind: string;
  device_id: Id | null;
  team_id: Id | null;
  /** Places in the device's history (its chain in the team, or its own sequence). */
  seq_from: number | null;
  seq_to: number | null;
  count: number;
  /** One plain sentence: what is wrong and what was done. */
  detail: string;
}

export interface SyncView {
  summary: SyncSummary;
  config: SyncConfig | null;
  /** What the last sync found wrong. */
  problems: SyncProblem[];
  /** The organisation's fingerprint, from the root key pinned at enrolment (null before). */
  org_fingerprint: string | null;
  /** The last restore of the sync service this laptop found (null: never). */
  service_restored: ServiceRestore | null;
}

export interface EnrolView {
  device_id: Id;
  /** This laptop's fingerprint: 16 letters and digits in 4 groups ("3F9A-21CX-77BE-KD0P"). */
  fingerprint: string;
  /** The organisation's fingerprint: the same on every laptop of the organisation. */
  org_fingerprint: string;
  status: "approved" | "pending" | "revoked";
  admin: boolean;
  recovery_words: string | null;
}

/** A laptop recovered with the organisation's recovery words: its admin device now. */
export interface RecoverView {
  device_id: Id;
  fingerprint: string;
  org_fingerprint: string;
  /** Team keys opened with the words (every epoch of every team). */
  team_keys: number;
}

export interface SyncReport {
  pushed: number;
  pulled: number;
  conflicts: number;
  unsynced: number;
  held: number;
  /** Ops refused because they failed their checks (held as evidence, never applied). */
  rejected: number;
  /** Times a gap made this laptop read the log again. */
  refills: number;
  /** This laptop's changes the service had acknowledged and lost, sent again. */
  resent: number;
  /** The service was found restored from an older backup in this sync (said once). */
  service_restored: boolean;
  /** Other laptops' changes the service had lost, given back by this laptop. */
  given_back: number;
  /** Non-empty: the sync did not end clean. */
  problems: SyncProblem[];
}

/** The last restore of the sync service this laptop found, and what it did about it. */
export interface ServiceRestore {
  /** When this laptop found it (RFC 3339). */
  found_at: string;
  /** Why it concluded the service was restored, in plain words. */
  why: string;
  /** Still giving back (the next sync finishes it). */
  pending: boolean;
  resent: number;
  given_back: number;
}

/** What a running sync is doing ("done" when it has ended, with or without an error). */
export interface SyncProgress {
  phase: "starting" | "sending" | "receiving" | "done";
  done: number;
  total: number;
}

export interface ConflictVersion {
  version_id: Id;
  body: string;
  author: string;
  saved_at: string;
  device_id: string;
}

export interface NoteConflict {
  activity_id: Id;
  case_id: Id | null;
  versions: ConflictVersion[];
}

export interface InboxItem {
  id: number;
  kind: "overwritten" | "resurrected";
  entity: string;
  entity_id: Id;
  field: string | null;
  lost_value: string | null;
  won_value: string | null;
  at: string;
}

export interface InboxView {
  conflicts: NoteConflict[];
  items: InboxItem[];
}

/** One of the organisation's teams this laptop is in; the first team has no name. */
export interface SyncTeam {
  id: Id;
  name: string | null;
}

export interface DeviceInfo {
  device_id: Id;
  name: string;
  fingerprint: string;
  status: "approved" | "pending" | "revoked";
  admin: boolean;
  teams: Id[];
}

// ---- tasks (every dated promise on a case) and the diary ----

export interface TribunalPosition {
  standing: "can-apply-now" | "applied" | "next-window" | "closed" | "no-right" | "no-status";
  text: string;
  opens?: string;
  closes?: string;
  source?: string;
}

/** Where a task comes from: `activity:<id>`, `legal-event:<id>`, `reminder:<kind>:<date>`, `task:<id>`. */
export type TaskKey = string;

export type TaskStatus = "overdue" | "open" | "snoozed" | "done" | "past";

export type TaskState =
  | { state: "open" }
  | { state: "done"; by: string; at: string }
  | { state: "snoozed"; until: string; reason: string; by: string; at: string };

export type CaseTask = {
  key: TaskKey;
  case_id: Id;
  kind: string;
  kind_label: string;
  title: string;
  due: string;
  /** "09:30:00" for a meeting at a time. */
  time?: string;
  days_left: number;
  appointment: boolean;
  source?: string;
  status: TaskStatus;
} & TaskState;

export type DueTask = CaseTask & {
  client_id: Id;
  name: string;
  hospital: string | null;
  ward: string | null;
};

export interface DueTasks {
  today: string | null;
  upcoming: DueTask[];
  overdue: DueTask[];
  overdue_total: number;
}

export interface Diary {
  today: string;
  from: string;
  to: string;
  entries: DueTask[];
}

/** A task added by hand. */
export interface NewTask {
  case_id: Id;
  title: string;
  due: string;
  kind: "task" | "visit" | "ward-round" | "cpa-review";
  time?: string;
}

export type TaskChange =
  | { change: "done" }
  | { change: "snoozed"; until: string; reason: string }
  | { change: "reopened" };

/** The parts of a timeline entry that can be corrected after it was saved. */
export interface ActivityDetails {
  at: string;
  duration_minutes?: number;
  kind: ActivityKind;
  withheld?: WithholdReason;
}

export type Amendment = {
  case_id: Id;
  reason: string;
  by: string;
  made_at: string;
} & (
  | { what: "activity"; activity_id: Id; before: ActivityDetails; after: ActivityDetails }
  | { what: "case-reopened"; closure: Closure }
  | { what: "case-commissioner"; before?: string; after?: string; from: string }
);

export interface FormDraft {
  form_key: string;
  case_id: Id | null;
  form: Record<string, unknown>;
  saved_at: string;
}

/** A form typed in and not saved, waiting on this laptop. */
export interface WaitingDraft {
  form: string;
  form_key: string;
  case_id: Id | null;
  name: string | null;
  saved_at: string;
}

// ---- reports: commissioner returns and the service dashboard (issue 16) ----

/** One reporting period, both days included ("YYYY-MM-DD"). */
export interface ReportPeriod {
  label: string;
  from: string;
  to: string;
}

export type ReportTarget = { at_least: number } | { at_most: number };

export interface TargetCheck {
  target: ReportTarget;
  /** The measure as published: a number, or "*". */
  actual: number | string;
  /** null when the measure is withheld. */
  met: boolean | null;
}

export interface ReportMeasure {
  key: string;
  title: string;
  definition: string;
}

export interface CommissionerChoice {
  name: string;
  has_contract: boolean;
  cases: number;
  /** Latest first. */
  periods: ReportPeriod[];
  last_complete: ReportPeriod | null;
  /** The contract's own periods (empty: financial-year quarters). */
  own_periods: ReportPeriod[];
  measures: string[];
  targets: Record<string, ReportTarget>;
}

export interface ReportSetup {
  today: string;
  commissioners: CommissionerChoice[];
  measures: ReportMeasure[];
  /** The keys of the headline measures (targets are set on these); the others are tables. */
  headline: string[];
  /** Counts from 1 to this are shown as "*" as released. */
  threshold: number;
}

/** A count, or "*" when suppressed. */
export type ReportCell = number | "*";

export interface CaseLabel {
  case_id: Id;
  client_id: Id;
  name: string;
  hospital: string | null;
  ward: string | null;
  opened_on: string;
  closed_on: string | null;
}

export interface UnassignedRow {
  case: CaseLabel | null;
  referral: Id | null;
  client_id: Id | null;
  name: string | null;
  received_or_opened: string;
}

export interface ReturnView {
  commissioner: string;
  from: string;
  to: string;
  measures: Record<string, number | string | null>;
  tables: Record<string, Record<string, ReportCell>>;
  suppression_threshold: number;
  targets: Record<string, TargetCheck>;
  exact: boolean;
  /** The cases behind each number (ids only; exact returns only): a measure's key or "table/code". */
  cases_behind: Record<string, Id[]>;
  unassigned: UnassignedRow[];
  missed_target: number;
}

export interface ReturnExported {
  folder: string;
  files: string[];
  /** Returns released before for this commissioner over overlapping periods. */
  overlapping: { commissioner: string; from: string; to: string }[];
}

export type ReturnFormatCode = "pdf" | "csv" | "xlsx" | "json";

export interface DashboardWaiting {
  who: CaseLabel;
  case: Id;
  client: Id;
  referral: Id | null;
  since: string;
  working_days: number;
  commissioner: string | null;
}

export interface DashboardOpenCase {
  who: CaseLabel;
  case: Id;
  client: Id;
  opened_on: string;
  days_open: number;
  last_activity: string | null;
  days_quiet: number;
}

export interface DashboardHeadline {
  key: string;
  title: string;
  definition: string;
  value: number | string | null;
  target: TargetCheck | null;
}

export interface CommissionerGlance {
  commissioner: string;
  has_contract: boolean;
  period: ReportPeriod;
  measures: DashboardHeadline[];
}

export interface ServiceDashboard {
  today: string;
  open_cases: number;
  waiting: DashboardWaiting[];
  open_longest: DashboardOpenCase[];
  quiet_longest: DashboardOpenCase[];
  due_this_week: {
    from: string | null;
    to: string | null;
    upcoming: DueTask[];
    upcoming_total: number;
    overdue: DueTask[];
    overdue_total: number;
  };
  quarter: CommissionerGlance[];
}

export interface ReportContract {
  commissioner: string;
  periods?: ReportPeriod[];
  measures?: string[];
  targets?: Record<string, ReportTarget>;
}
