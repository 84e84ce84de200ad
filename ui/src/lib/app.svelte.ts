// App-wide state: which screen is showing, the coded lists, and what must happen before a lock.
// Locking resets all of it (see App.svelte): no screen keeps data across a lock.
import { api } from "./api";
import type { Id, SyncProgress, SyncView, Vocabulary } from "./types";

export type View =
  | { name: "caseload" }
  | { name: "case"; id: Id; newActivity?: boolean; form?: string }
  | { name: "search"; query?: string }
  | { name: "new-client" }
  | { name: "settings" }
  | { name: "sync" }
  | { name: "diary" }
  | { name: "reports" };

export const ui = $state({
  view: { name: "caseload" } as View,
  vocab: {} as Vocabulary,
  /** Bumped on every lock: screens are keyed on it, so they are destroyed with their data. */
  generation: 0,
  /** Sync's counts for the header; refreshed after every sync and every save. */
  sync: null as SyncView | null,
  /** What a running sync is doing, for every screen (the sync runs beside them); null when none runs. */
  syncing: null as SyncProgress | null,
  /** The form open on the case screen ("safeguarding", "outcome:<issue id>"...), so that after
   * a lock the person comes back to it (its draft is restored from the encrypted store). */
  openForm: null as string | null,
  /** The fingerprints this laptop was shown when it connected (until the next lock). */
  connected: null as { fingerprint: string; org_fingerprint: string } | null,
});

/** Re-read sync's counts (after a save, so "N changes not yet synced" stays true). */
export async function refreshSync(): Promise<void> {
  try {
    ui.sync = await api.syncStatus();
  } catch {
    /* locked: nothing to show */
  }
}

/** Work that must finish before the store locks (the open activity form saves its draft). */
let flushers: (() => Promise<void>)[] = [];

export function onBeforeLock(f: () => Promise<void>): () => void {
  flushers.push(f);
  return () => {
    flushers = flushers.filter((g) => g !== f);
  };
}

export async function flushBeforeLock(): Promise<void> {
  await Promise.allSettled(flushers.map((f) => f()));
}

export function go(view: View): void {
  ui.view = view;
}

/** The label of a code in one of the coded lists ("status", "outcome", ...). */
export function label(list: string, code: string | null | undefined): string {
  if (!code) return "";
  return ui.vocab[list]?.find((c) => c.code === code)?.label ?? code;
}

/** Is focus in something a person types into (so single-key shortcuts must not fire)? */
export function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}
