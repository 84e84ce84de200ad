// Sync's words: the header's status line, a sync's result, the problems a sync found, and what a
// sync error means for the person at the laptop. No network and no store here: screens pass in
// what api.ts gave them and show what comes back.
import type { AppError, DeviceInfo, ServiceRestore, SyncProblem, SyncProgress, SyncReport, SyncSummary } from "./types";
import { plural } from "./format";

/** A piece of the header's sync line; `problem` pieces are shown as a warning. */
export interface LinePart {
  text: string;
  tone: "plain" | "attention" | "problem";
}

// "1 change", "3 changes": the app's one plural helper, re-exported for sync's screens.
export { plural };

/** What the header says first for a laptop that cannot sync yet (or any more). */
const STANDING: Record<string, string> = {
  pending: "Waiting for approval",
  "re-enrol": "Connect again",
  revoked: "Removed from your organisation",
};

/**
 * What a running sync is doing, in words: "Syncing…", "Receiving 16,000 of 200,000 changes";
 * "" when none runs.
 */
export function progressText(p: SyncProgress | null | undefined): string {
  if (!p || p.phase === "done") return "";
  if (p.phase === "starting" || p.total <= 0) return "Syncing…";
  const n = (x: number) => x.toLocaleString("en-GB");
  const verb = p.phase === "sending" ? "Sending" : "Receiving";
  return `${verb} ${n(Math.min(p.done, p.total))} of ${n(p.total)} ${p.total === 1 ? "change" : "changes"}`;
}

/**
 * "2 changes not yet synced · 1 to look at · 2 sync problems" as parts, or "Sync not set up";
 * led by the laptop's standing when it is not approved ("Waiting for approval"), and by what a
 * running sync is doing ("Receiving 16,000 of 200,000 changes").
 */
export function statusLine(s: SyncSummary | null | undefined, running?: SyncProgress | null): LinePart[] {
  if (!s || !s.enrolled) return [{ text: "Sync not set up", tone: "plain" }];
  const parts: LinePart[] = [];
  const doing = progressText(running);
  if (doing) parts.push({ text: doing, tone: "plain" });
  const standing = STANDING[s.status ?? ""];
  if (standing) parts.push({ text: standing, tone: "attention" });
  parts.push({
    text: s.unsynced === 0 ? "All changes synced" : `${plural(s.unsynced, "change")} not yet synced`,
    tone: "plain",
  });
  const look = s.conflicts + s.inbox;
  if (look > 0) parts.push({ text: `${look} to look at`, tone: "attention" });
  if (s.problems > 0) parts.push({ text: plural(s.problems, "sync problem"), tone: "problem" });
  return parts;
}

/** Which ops of a device's history: "op 4", "ops 4–7", "up to op 7", or "" when not known. */
export function opsLabel(from: number | null, to: number | null): string {
  if (from === null && to === null) return "";
  if (from === null) return `up to op ${to}`;
  if (to === null || to === from) return `op ${from}`;
  return `ops ${Math.min(from, to)}–${Math.max(from, to)}`;
}

/** A device id as a person can read it out: its first 8 characters ("device 3f9a21c0"). */
export function shortDevice(id: string): string {
  return `device ${id.replaceAll("-", "").slice(0, 8)}`;
}

/**
 * A device by its name when an admin's signed statement gave it one (approved or revoked), else
 * by a short id: the name of a device no admin approved is only what the sync service says.
 */
export function deviceLabel(id: string | null, devices: readonly DeviceInfo[] | null | undefined): string {
  if (!id) return "";
  const d = devices?.find((x) => x.device_id === id);
  if (d && d.status !== "pending" && d.name.trim()) {
    return d.status === "revoked" ? `${d.name} (removed)` : d.name;
  }
  return shortDevice(id);
}

const TITLES: Record<string, string> = {
  gap: "Changes missing",
  tampered: "Changes altered on the way",
  "unknown-device": "Changes from a device no admin approved",
  "not-member": "Changes from a device outside its team",
  "after-revocation": "Changes sent after a device was removed",
  "other-organisation": "Changes from another organisation",
  malformed: "Changes not in the form Wardside writes",
  forked: "Two different histories from one device",
  "broken-chain": "A device's history does not join up",
  "cannot-apply": "Changes that could not be applied",
  "not-kept": "Refused changes not kept",
  "lost-by-service": "Your changes lost by the sync service",
  "trust-log": "Something is wrong with the organisation's signed record of laptops",
  "key-refused": "Team keys refused",
  "waiting-for-key": "Waiting for a team key",
  "push-refused": "The sync service refuses your changes",
  counts: "The sync service's counts do not add up",
};

/** A short heading for a problem's kind (any kind not known here still gets one). */
export function problemTitle(kind: string): string {
  return TITLES[kind] ?? "Something is wrong with what was synced";
}

/**
 * The backend's sentence as the screen shows it: a capital first, "1 op(s)" as "1 op" and
 * "3 op(s)" as "3 ops", and a full stop at the end.
 */
export function sentence(text: string): string {
  let s = text.trim().replace(/\b(\d+)([^\d(]*?)\(s\)/g, (_, n: string, words: string) =>
    `${n}${words}${n === "1" ? "" : "s"}`,
  );
  if (!s) return "";
  s = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export interface ProblemLine {
  title: string;
  /** "Bea's laptop, ops 4–7", "device 3f9a21c0, op 4", "" when no device is concerned. */
  where: string;
  detail: string;
}

/** One problem as the Sync screen lists it. */
export function problemLine(p: SyncProblem, devices?: readonly DeviceInfo[] | null): ProblemLine {
  const where = [deviceLabel(p.device_id, devices), opsLabel(p.seq_from, p.seq_to)].filter(Boolean);
  return { title: problemTitle(p.kind), where: where.join(", "), detail: sentence(p.detail) };
}

/** Problem kinds whose ops are held here, never applied (the rest are about chains, counts, keys). */
const HELD_KINDS = new Set([
  "tampered",
  "unknown-device",
  "not-member",
  "after-revocation",
  "other-organisation",
  "malformed",
  "forked",
  "cannot-apply",
]);

/**
 * The "Kept back" line: how many received changes are held, split into those held because of
 * a problem listed and those this laptop cannot read yet. "" when none are held.
 */
export function keptBack(held: number, problems: readonly SyncProblem[]): string {
  if (held <= 0) return "";
  const refused = Math.min(
    held,
    problems.filter((p) => HELD_KINDS.has(p.kind)).reduce((n, p) => n + p.count, 0),
  );
  const waiting = held - refused;
  const parts: string[] = [];
  if (refused) parts.push(`${plural(refused, "change")} held because of the sync problems listed`);
  if (waiting) parts.push(`${plural(waiting, "change")} this laptop cannot read yet (waiting for a key or a newer Wardside)`);
  return parts.join("; ");
}

/** The last restore of the sync service this laptop found, in a sentence for the status list. */
export function restoreLine(r: ServiceRestore): string {
  const day = r.found_at.slice(0, 10);
  if (r.pending) {
    return `Found on ${day}: ${r.why}. This laptop is still giving back what the service lost; it finishes at the next sync.`;
  }
  return `Found on ${day}: ${r.why}. This laptop queued ${r.resent} of its own changes to send again and gave back ${plural(r.given_back, "change", "changes")} from other laptops.`;
}

/** What to do about the problems listed. */
export function problemAdvice(admin: boolean): string {
  return admin
    ? "Check the devices named here with the people who use them, and tell whoever runs your sync service. Nothing was applied from these, and nothing of yours was lost."
    : "Tell your organisation's admin. Nothing was applied from these, and nothing of yours was lost.";
}

/** What a finished sync did, in a sentence or two, and whether it ended clean. */
export function reportSummary(r: SyncReport): { text: string; clean: boolean } {
  const parts = [`${r.pushed} sent`, `${r.pulled} received`];
  if (r.conflicts) parts.push(`${r.conflicts} to look at`);
  if (r.resent) parts.push(`${r.resent} of yours sent again (the sync service had lost ${r.resent === 1 ? "it" : "them"})`);
  // Ops refused by their checks are counted in the problems (from the store, once each); the
  // report counts them again when a gap makes the sync read the log twice.
  const waiting = Math.max(0, r.held - r.rejected);
  if (waiting) parts.push(`${waiting} kept until this laptop can read ${waiting === 1 ? "it" : "them"}`);
  if (r.given_back) parts.push(`${r.given_back} from other laptops given back to the sync service`);
  let text = `Synced: ${parts.join(", ")}.`;
  if (r.service_restored) {
    text =
      "The sync service was restored from an older backup. This laptop read everything again and gave back what the service had lost; nothing was lost. " +
      text;
  }
  const n = r.problems.length;
  if (n > 0) text += ` Found ${plural(n, "sync problem")}: listed below.`;
  return { text, clean: n === 0 };
}

const ERROR_TITLES: Record<string, string> = {
  offline: "The sync service could not be reached",
  "sync-revoked": "An admin removed this laptop from your organisation",
  "sync-revoked-claim": "The sync service refuses this laptop",
  "sync-untrusted": "The sync service could not be trusted",
  "sync-cancelled": "Sync stopped when Wardside locked",
  "sync-pending": "Waiting for an admin",
  "sync-re-enrol": "Connect this laptop again",
  "sync-no-key": "Waiting for a team key",
  "fingerprint-mismatch": "The fingerprints do not match",
  "sync-refused": "The sync service refused",
};

/** A sync error as the screen shows it: a heading for the ones that need one, and the message. */
export function syncError(e: AppError): { title: string | null; text: string } {
  return { title: ERROR_TITLES[e.code] ?? null, text: sentence(e.message) };
}
