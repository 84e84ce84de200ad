// Text size for the whole app (WCAG 1.4.4): Ctrl+= / Ctrl++ larger, Ctrl+- smaller, Ctrl+0 back
// to normal, and the Settings screen's "Text size". It scales the root font size: every size
// and most spacing in app.css is in rem, so the layout grows with the text and reflows, where
// the webview's own zoom would also need an extra capability. The size is kept in the settings
// file with the other preferences, through the callback main.ts passes in.

/** The steps Ctrl+= and Ctrl+- move through, in percent (the browsers' own). */
export const STEPS = [50, 67, 80, 90, 100, 110, 125, 150, 175, 200, 250, 300] as const;
export const NORMAL = 100;

let current: number = NORMAL;

/** The text size in force, in percent. */
export function textSize(): number {
  return current;
}

/** Apply a size (clamped to the steps' range); returns what was applied. */
export function applyTextSize(percent: number): number {
  const first = STEPS[0];
  const last = STEPS[STEPS.length - 1] ?? NORMAL;
  current = Math.min(last, Math.max(first, Math.round(Number.isFinite(percent) ? percent : NORMAL)));
  document.documentElement.style.fontSize = current === NORMAL ? "" : `${current}%`;
  document.documentElement.dataset.textSize = String(current);
  return current;
}

/** The next step up or down from `percent` (a size between steps goes to the nearer one). */
export function step(percent: number, direction: 1 | -1): number {
  if (direction > 0) return STEPS.find((s) => s > percent) ?? STEPS[STEPS.length - 1] ?? percent;
  return [...STEPS].reverse().find((s) => s < percent) ?? STEPS[0];
}

/** What a key press asks for, if it is a zoom key. */
export function zoomKey(e: Pick<KeyboardEvent, "ctrlKey" | "metaKey" | "altKey" | "key" | "code">): "in" | "out" | "reset" | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return null;
  if (e.key === "=" || e.key === "+" || e.code === "NumpadAdd") return "in";
  if (e.key === "-" || e.key === "_" || e.code === "NumpadSubtract") return "out";
  if (e.key === "0" || e.code === "Numpad0") return "reset";
  return null;
}

/** Listen for the zoom keys anywhere in the app; `persist` is told each new size. */
export function installZoom(persist: (percent: number) => void): () => void {
  const onKey = (e: KeyboardEvent) => {
    const want = zoomKey(e);
    if (!want) return;
    e.preventDefault();
    const next = want === "reset" ? NORMAL : step(current, want === "in" ? 1 : -1);
    if (next !== current) persist(applyTextSize(next));
  };
  window.addEventListener("keydown", onKey, { capture: true });
  return () => window.removeEventListener("keydown", onKey, { capture: true });
}
