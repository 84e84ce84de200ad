// The one module that talks to the Rust side. Every command the UI uses is here, typed; a
// failure arrives as an AppError { code, message } with a message a person can act on.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type * as T from "./types";

function call<R>(cmd: string, args?: Record<string, unknown>): Promise<R> {
  return invoke<R>(cmd, args).catch((e: unknown) => {
    throw toAppError(e);
  });
}

export function toAppError(e: unknown): T.AppError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return e as T.AppError;
  }
  // Tauri refuses a command whose arguments do not parse (a date that is not a date, a number
  // that is not a number) before Wardside sees it. The forms check these first; this is the
  // backstop, and it still says what to do. Its own text is never shown (it can echo input).
  if (typeof e === "string" && e.startsWith("invalid args")) {
    return {
      code: "invalid",
      message: "Some of what you entered could not be read. Check the dates, times and numbers, then save again. Nothing was saved.",
    };
  }
  return { code: "internal", message: "Something went wrong. Try again." };
}

export const api = {
  status: () => call<T.SessionStatus>("session_status"),
  createStore: (advocate: string, passphrase: string, confirm: string) =>
    call<void>("create_store", { advocate, passphrase, confirm }),
  unlock: (passphrase: string) => call<void>("unlock", { passphrase }),
  lock: () => call<void>("lock"),
  touch: () => call<void>("touch"),
  settings: () => call<T.Settings>("settings"),
  saveSettings: (settings: T.Settings) => call<T.Settings>("save_settings", { settings }),
  changePassphrase: (current: string, next: string, confirm: string) =>
    call<void>("change_passphrase", { current, new: next, confirm }),
  vocabulary: () => call<T.Vocabulary>("vocabulary"),

  caseload: (filter: T.CaseloadFilter, offset: number, limit: number) =>
    call<T.CaseloadRow[]>("caseload", { filter, offset, limit }),
  dueReminders: (filter: T.CaseloadFilter) => call<T.DueList>("due_reminders", { filter }),
  facets: () => call<T.Facets>("caseload_facets"),

  caseView: (id: T.Id) => call<T.CaseScreen>("case_view", { id }),
  closeCase: (id: T.Id, closure: T.Closure, outcomes: [T.Id, T.IssueOutcome][]) =>
    call<void>("close_case", { id, closure, outcomes }),
  addIssue: (issue: T.Issue) => call<T.Id>("add_issue", { issue }),
  setIssueOutcome: (id: T.Id, outcome: T.IssueOutcome) =>
    call<void>("set_issue_outcome", { id, outcome }),
  addSafeguarding: (event: T.SafeguardingEvent) => call<T.Id>("add_safeguarding", { event }),
  caseAudit: (id: T.Id) => call<T.AuditEntry[]>("case_audit", { id }),

  addClient: (intake: T.Intake) => call<T.IntakeResult>("add_client", { intake }),
  likelyDuplicates: (client: T.Client) => call<T.LikelyDuplicate[]>("likely_duplicates", { client }),
  updateClient: (id: T.Id, client: T.Client) => call<number>("update_client", { id, client }),
  addRelative: (relative: T.Relative) => call<T.Id>("add_relative", { relative }),
  recordConsent: (consent: T.Consent) => call<T.Id>("record_consent", { consent }),
  addLegalEvent: (event: T.LegalEvent) => call<T.Id>("add_legal_event", { event }),

  addActivity: (activity: T.Activity, text: string) =>
    call<T.Id>("add_activity", { activity, text }),
  amendNote: (id: T.Id, text: string, reason: string) =>
    call<T.Id>("amend_note", { id, text, reason }),
  noteHistory: (id: T.Id) => call<T.NoteVersion[]>("note_history", { id }),
  saveDraft: (caseId: T.Id, form: unknown, body: string) =>
    call<void>("save_draft", { case: caseId, form, body }),
  discardDraft: (caseId: T.Id) => call<void>("discard_draft", { case: caseId }),
  amendActivity: (id: T.Id, details: T.ActivityDetails, reason: string) =>
    call<T.Id>("amend_activity", { id, details, reason }),
  activityAmendments: (id: T.Id) => call<T.Stored<T.Amendment>[]>("activity_amendments", { id }),
  reopenCase: (id: T.Id, reason: string) => call<T.Id>("reopen_case", { id, reason }),
  moveCaseCommissioner: (id: T.Id, to: string, from: string, reason: string) => call<T.Id>("move_case_commissioner", { id, to, from, reason }),
  commissionerNames: () => call<string[]>("commissioner_names"),
  referAgain: (client: T.Id, referral: T.Intake["referral"], caseDetails: T.Intake["case"]) =>
    call<T.IntakeResult>("refer_again", { client, referral, case: caseDetails }),
  saveFormDraft: (key: string, caseId: T.Id | null, form: Record<string, unknown>) =>
    call<void>("save_form_draft", { key, case: caseId, form }),
  formDraft: (key: string) => call<T.FormDraft | null>("form_draft", { key }),
  discardFormDraft: (key: string) => call<void>("discard_form_draft", { key }),
  waitingDrafts: () => call<T.WaitingDraft[]>("waiting_drafts"),
  search: (query: string) => call<T.SearchHit[]>("search", { query }),
  searchPeople: (query: string) => call<T.PersonHit[]>("search_people", { query }),

  syncStatus: () => call<T.SyncView>("sync_status"),
  syncEnroll: (server: string, code: string, name: string) =>
    call<T.EnrolView>("sync_enroll", { server, code, name }),
  /** The words go to Rust and nowhere else: never into a draft, a log or the page's storage. */
  syncRecover: (server: string, words: string, name: string) =>
    call<T.RecoverView>("sync_recover", { server, words, name }),
  syncNow: () => call<T.SyncReport>("sync_now"),
  syncInbox: () => call<T.InboxView>("sync_inbox"),
  resolveConflict: (activity: T.Id, text: string) => call<void>("resolve_conflict", { activity, text }),
  dismissInboxItem: (id: number) => call<void>("dismiss_inbox_item", { id }),
  syncDevices: () => call<T.DeviceInfo[]>("sync_devices"),
  syncInvite: () => call<string>("sync_invite"),
  syncApprove: (device: T.Id, fingerprint: string) => call<void>("sync_approve", { device, fingerprint }),
  syncRevoke: (device: T.Id) => call<void>("sync_revoke", { device }),
  syncTeams: () => call<T.SyncTeam[]>("sync_teams"),
  moveClient: (id: T.Id, to: T.Id) => call<number>("move_client", { id, to }),
  createTeam: (name: string) => call<T.Id>("create_team", { name }),
  setDeviceTeams: (device: T.Id, teams: T.Id[]) => call<void>("set_device_teams", { device, teams }),
  exportDocument: (kind: T.ExportKind, client: T.Id, caseId: T.Id, includeName: boolean) =>
    call<T.Exported | null>("export_document", { kind, client, case: caseId, includeName }),
  exportFileNames: (client: T.Id, caseId: T.Id, includeName: boolean) =>
    call<T.ExportFileNames>("export_file_names", { client, case: caseId, includeName }),
  onSyncProgress: (f: (p: T.SyncProgress) => void): Promise<UnlistenFn> =>
    listen<T.SyncProgress>("sync-progress", (e) => f(e.payload)),
  onSyncStatus: (f: (v: T.SyncView) => void): Promise<UnlistenFn> =>
    listen<T.SyncView>("sync-status", (e) => f(e.payload)),

  dueTasks: (filter: T.CaseloadFilter) => call<T.DueTasks>("due_tasks", { filter }),
  caseTasks: (id: T.Id) => call<T.CaseTask[]>("case_tasks", { id }),
  addTask: (task: T.NewTask) => call<T.Id>("add_task", { task }),
  updateTask: (caseId: T.Id, key: T.TaskKey, change: T.TaskChange) =>
    call<T.Id>("update_task", { case: caseId, key, change }),
  diary: (day: string | null) => call<T.Diary>("diary", { day }),
  /** The system's print dialog for the window. The webview's own window.print() does nothing
   * under WebKitGTK; Tauri's webview print (permission core:webview:allow-print) opens GTK's. */
  printPage: () => call<void>("plugin:webview|print"),

  onLocked: (f: (reason: T.LockReason) => void): Promise<UnlistenFn> =>
    listen<T.LockReason>("locked", (e) => f(e.payload)),
};

// ---- reports: commissioner returns and the service dashboard (issue 16) ----
export const reportsApi = {
  setup: () => call<T.ReportSetup>("report_setup"),
  /** Exact numbers (not for release; the view is audited) or as released (suppressed). */
  compute: (commissioner: string, from: string, to: string, exact: boolean) =>
    call<T.ReturnView>("report_return", { commissioner, from, to, exact }),
  /** Who the cases behind a number are for (audited). */
  cases: (ids: T.Id[]) => call<T.CaseLabel[]>("report_cases", { ids }),
  /** Asks for a folder in Rust (the webview never names a path); null when cancelled. */
  exportReturn: (commissioner: string, from: string, to: string, formats: T.ReturnFormatCode[]) =>
    call<T.ReturnExported | null>("export_return", { commissioner, from, to, formats }),
  dashboard: () => call<T.ServiceDashboard>("service_dashboard"),
  setContract: (contract: T.ReportContract) => call<void>("set_contract", { contract }),
};
