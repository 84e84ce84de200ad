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
  search: (query: string) => call<T.SearchHit[]>("search", { query }),

  syncStatus: () => call<T.SyncView>("sync_status"),
  syncEnroll: (server: string, code: string, name: string) =>
    call<T.EnrolView>("sync_enroll", { server, code, name }),
  syncNow: () => call<T.SyncReport>("sync_now"),
  syncInbox: () => call<T.InboxView>("sync_inbox"),
  resolveConflict: (activity: T.Id, text: string) => call<void>("resolve_conflict", { activity, text }),
  dismissInboxItem: (id: number) => call<void>("dismiss_inbox_item", { id }),
  syncDevices: () => call<T.DeviceInfo[]>("sync_devices"),
  syncInvite: () => call<string>("sync_invite"),
  syncApprove: (device: T.Id, fingerprint: string) => call<void>("sync_approve", { device, fingerprint }),
  syncRevoke: (device: T.Id) => call<void>("sync_revoke", { device }),
  exportDocument: (kind: T.ExportKind, client: T.Id, caseId: T.Id) =>
    call<T.Exported | null>("export_document", { kind, client, case: caseId }),
  onSyncProgress: (f: (p: T.SyncProgress) => void): Promise<UnlistenFn> =>
    listen<T.SyncProgress>("sync-progress", (e) => f(e.payload)),
  onSyncStatus: (f: (v: T.SyncView) => void): Promise<UnlistenFn> =>
    listen<T.SyncView>("sync-status", (e) => f(e.payload)),

  onLocked: (f: (reason: T.LockReason) => void): Promise<UnlistenFn> =>
    listen<T.LockReason>("locked", (e) => f(e.payload)),
};
