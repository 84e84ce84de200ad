// Calls `f` at most once per `ms`, on the leading edge: used to tell the Rust side that a person
// is at the keyboard (for the idle lock) without a call per key press.
export function throttle(f: () => void, ms: number, now: () => number = Date.now): () => void {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last >= ms) {
      last = t;
      f();
    }
  };
}
