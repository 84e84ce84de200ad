// Where a waiting draft is taken back to: the case, with the form that holds it open again.
import type { View } from "./app.svelte";
import type { WaitingDraft } from "./types";

const NAMES: Record<string, string> = {
  activity: "New activity",
  safeguarding: "Safeguarding event",
  issue: "New issue",
  outcome: "Issue outcome",
  close: "Closing the case",
  consent: "Consent decision",
  relative: "Nearest relative or nominated person",
  legal: "Legal status history",
  client: "The person's details",
  reopen: "Reopening the case",
  referral: "New referral",
  amend: "Correction of an entry",
  note: "Note amendment",
  task: "New task",
  snooze: "Snoozing a task",
  "new-client": "New client",
};

/** The case screen's dialogs that a form name reopens as they are. */
const DIALOGS = ["safeguarding", "issue", "close", "consent", "relative", "legal", "client", "reopen", "referral"];

export function draftLabel(d: WaitingDraft): string {
  return NAMES[d.form] ?? "A form";
}

/** The view that brings the draft back, or null when there is nowhere to go (no open case). */
export function draftView(d: WaitingDraft): View | null {
  if (d.form === "new-client") return { name: "new-client" };
  if (!d.case_id) return null;
  if (DIALOGS.includes(d.form)) return { name: "case", id: d.case_id, form: d.form };
  if (d.form === "outcome" || d.form === "amend" || d.form === "note") return { name: "case", id: d.case_id, form: d.form_key };
  return { name: "case", id: d.case_id };
}
