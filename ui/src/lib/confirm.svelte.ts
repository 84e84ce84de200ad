// Asking before something cannot be undone. The webview's own confirm() is replaced by Tauri's
// dialog plugin with an asynchronous version whose result (a promise) is always truthy, so it
// must never be used: every destructive action asks through this in-app dialog instead
// (ConfirmHost.svelte, mounted once by App.svelte). Cancel is the default button; Esc cancels.

export interface ConfirmRequest {
  title: string;
  body: string;
  /** The destructive button's words: a verb saying what happens ("Discard", "Revoke"). */
  confirm: string;
  cancel?: string;
  destructive?: boolean;
}

interface Pending extends ConfirmRequest {
  resolve: (ok: boolean) => void;
}

export const confirmState = $state({ pending: null as Pending | null });

/** Ask; resolves true only when the person chose the confirming button. */
export function confirmAction(request: ConfirmRequest): Promise<boolean> {
  // A second question while one is open answers the first with "cancel": nothing is lost.
  confirmState.pending?.resolve(false);
  return new Promise((resolve) => {
    confirmState.pending = { destructive: true, ...request, resolve };
  });
}

/** The host calls this with the answer (false for Cancel, Esc, or the dialog going away). */
export function answer(ok: boolean): void {
  const p = confirmState.pending;
  confirmState.pending = null;
  p?.resolve(ok);
}
