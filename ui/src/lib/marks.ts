// Performance marks at the moments the app benchmark measures (lock screen shown, unlock
// submitted, caseload shown, case requested, case shown). Names only: no content.
export type MarkName = "lock-shown" | "unlock-submitted" | "caseload-shown" | "case-requested" | "case-shown";

export function mark(name: MarkName): void {
  performance.clearMarks(`wardside:${name}`);
  performance.mark(`wardside:${name}`);
}
