// What every form shares: the GOV.UK error pattern (a summary titled "There is a problem" that
// links to each field, and the same words beside the field), and a draft kept in the encrypted
// store as the person types, restored after a lock or a crash, asked about before Esc throws
// typed text away.
import { onDestroy, onMount } from "svelte";
import { api } from "./api";
import { onBeforeLock } from "./app.svelte";
import { confirmAction } from "./confirm.svelte";
import { localInstant } from "./format";
import type { AppError } from "./types";

/** One thing wrong: the input it is about (its DOM id) and what to do. */
export interface Problem {
  id: string;
  message: string;
}

/** A form's problems, for its ErrorSummary and its fields. */
export class Problems {
  list = $state<Problem[]>([]);

  of(id: string): string | undefined {
    return this.list.find((p) => p.id === id)?.message;
  }

  set(list: Problem[]): void {
    this.list = list;
  }

  clear(): void {
    this.list = [];
  }

  /**
   * Something was typed or chosen: the message about that field goes (it is checked again on
   * the next save), so a corrected field never keeps saying it is wrong. For a form's
   * `oninput` and `onchange`.
   */
  typed = (e: Event): void => {
    const el = e.target as HTMLElement | null;
    if (!el || this.list.length === 0) return;
    const group = el.closest(".has-error")?.querySelector(".field-error")?.id?.replace(/-error$/, "");
    const ids = [el.id, group].filter(Boolean);
    if (this.list.some((p) => ids.includes(p.id))) this.list = this.list.filter((p) => !ids.includes(p.id));
  };

  /**
   * A refusal from Wardside: beside the field it names when this form has that field (`ids`
   * maps the record's field names to this form's input ids), otherwise against `fallbackId`.
   */
  fromError(e: unknown, ids: Record<string, string>, fallbackId: string): void {
    const err = e as AppError;
    const id = (err.field && ids[err.field]) || fallbackId;
    this.list = [{ id, message: err.message ?? "Something went wrong. Try again." }];
  }
}

/** A date field's own check, in the GOV.UK words: empty, or not a real date. */
export function dateProblem(id: string, label: string, iso: string, invalid: boolean, required = true): Problem | null {
  if (invalid) return { id, message: `${label} must be a real date, typed day first (for example 25/11/2026)` };
  if (required && !iso) return { id, message: `Enter ${label.toLowerCase()}` };
  return null;
}

export interface KeptDraft {
  /** When the restored draft was kept ("" when nothing was restored). */
  readonly restoredAt: string;
  /** Has anything been typed since the form opened (or since the draft was restored)? */
  dirty(): boolean;
  /** The form was saved: its draft goes. */
  saved(): Promise<void>;
  /** Close the form: asks first when something has been typed, then drops the draft. */
  close(onclose: () => void): Promise<void>;
  /** Empty the form and start again (asks first); drafts are kept again from then on. */
  restart(empty: () => void): Promise<void>;
}

const AUTOSAVE_MS = 3000;

/**
 * Keep `form` (a $state object holding every field, long text included) as an encrypted draft
 * under `key` while the component lives. Call during component setup.
 */
export function keepDraft<T extends object>(key: string, caseId: string | null, form: T): KeptDraft {
  const st = $state({ restoredAt: "" });
  const blank = JSON.stringify(form);
  let last = blank;
  let loaded = false;
  let closed = false;

  async function save(): Promise<void> {
    if (!loaded || closed) return;
    const snapshot = JSON.stringify(form);
    if (snapshot === last) return;
    try {
      if (snapshot === blank) await api.discardFormDraft(key);
      else await api.saveFormDraft(key, caseId, JSON.parse(snapshot) as Record<string, unknown>);
      last = snapshot;
    } catch {
      /* locked or full: the next save tries again */
    }
  }

  async function drop(): Promise<void> {
    closed = true;
    last = JSON.stringify(form);
    await api.discardFormDraft(key).catch(() => {});
  }

  onMount(async () => {
    const draft = await api.formDraft(key).catch(() => null);
    if (draft && !closed) {
      Object.assign(form, draft.form);
      st.restoredAt = localInstant(draft.saved_at);
      last = JSON.stringify(form);
    }
    loaded = true;
  });
  const timer = setInterval(save, AUTOSAVE_MS);
  const off = onBeforeLock(save);
  onDestroy(() => {
    clearInterval(timer);
    off();
  });

  async function ask(): Promise<boolean> {
    return (
      JSON.stringify(form) === blank ||
      confirmAction({
        title: "Discard what you have typed?",
        body: "The form will close and what you typed in it will be deleted.",
        confirm: "Discard",
        cancel: "Keep editing",
      })
    );
  }

  return {
    get restoredAt() {
      return st.restoredAt;
    },
    dirty: () => JSON.stringify(form) !== blank,
    saved: drop,
    async close(onclose: () => void) {
      if (!(await ask())) return;
      await drop();
      onclose();
    },
    async restart(empty: () => void) {
      if (!(await ask())) return;
      await drop();
      empty();
      st.restoredAt = "";
      last = JSON.stringify(form);
      closed = false;
    },
  };
}
