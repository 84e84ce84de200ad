// UK formats for dates and times: "25 Nov 2026", "25 Nov 2026, 14:05". Stored dates are ISO.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-11-25" → "25 Nov 2026"; anything else is returned as it came. */
export function ukDate(iso: string | null | undefined): string {
  if (!iso) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  const month = MONTHS[Number(m[2]) - 1];
  return month ? `${Number(m[3])} ${month} ${m[1]}` : iso;
}

/** "2026-11-25T14:05:00" → "25 Nov 2026, 14:05". */
export function ukDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${ukDate(m[1])}, ${m[2]}:${m[3]}` : ukDate(iso);
}

/** An RFC 3339 instant (audit entries, drafts: UTC) shown in the laptop's local time. */
export function localInstant(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return ukDateTime(isoLocal(d) + ":00");
}

/** A Date as local "YYYY-MM-DDTHH:MM". */
export function isoLocal(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The app's clock minus the webview's: the store's clock (WARDSIDE_NOW when set) is the one clock. */
let clockOffsetMs = 0;

/** Set from the app's own "now" (UK local, "YYYY-MM-DDTHH:MM:SS"), read when it starts. */
export function setAppNow(ukLocal: string, webviewNow: number = Date.now()): void {
  const t = new Date(ukLocal).getTime();
  clockOffsetMs = Number.isNaN(t) ? 0 : t - webviewNow;
}

/** Now, on the app's clock. */
export function appNow(): Date {
  return new Date(Date.now() + clockOffsetMs);
}

export function todayIso(now: Date = appNow()): string {
  return isoLocal(now).slice(0, 10);
}

/**
 * A count with its noun, singular for exactly one: plural(1, "year") → "1 year",
 * plural(2, "entry", "entries") → "2 entries", plural(0, "note") → "0 notes". The one place
 * that decides a plural in the UI.
 */
export function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${n} ${Math.abs(n) === 1 ? one : many}`;
}

/** Whether a note is long enough to fold in the timeline (more than about ten lines' worth). */
export function isLongText(text: string, maxChars = 900, maxLines = 10): boolean {
  return text.length > maxChars || text.split("\n").length > maxLines;
}

/** "in 3 days", "today", "2 days ago" for a reminder's days_left. */
export function daysLeft(n: number): string {
  if (n === 0) return "today";
  if (n === 1) return "tomorrow";
  if (n === -1) return "yesterday";
  return n < 0 ? `${plural(-n, "day")} ago` : `in ${plural(n, "day")}`;
}

/** Initials for places where a full name should not show ("Siân Ap Dafydd" → "S.A.D."). */
export function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => (w[0] ?? "").toUpperCase() + ".")
    .join("");
}

const MONTH_WORDS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function validIso(y: number, m: number, d: number): string | null {
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${y}-${p(m)}-${p(d)}`;
}

/**
 * A date typed the UK way: "25/11/2026", "25/11/26", "25.11.2026", "25 Nov 2026",
 * "25 november 2026", "2026-11-25", "today", "yesterday", "tomorrow". Returns ISO, or null.
 */
export function parseUkDate(input: string, today: Date = appNow()): string | null {
  const s = input.trim().toLowerCase();
  if (!s) return null;
  const shift = { today: 0, yesterday: -1, tomorrow: 1 }[s];
  if (shift !== undefined) {
    const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() + shift);
    return validIso(d.getFullYear(), d.getMonth() + 1, d.getDate());
  }
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (m) return validIso(Number(m[1]), Number(m[2]), Number(m[3]));
  const year = (y: string) => (y.length === 2 ? 2000 + Number(y) : Number(y));
  m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$/.exec(s);
  if (m) return validIso(year(m[3] ?? ""), Number(m[2]), Number(m[1]));
  m = /^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4}|\d{2})$/.exec(s);
  if (m) {
    const month = MONTH_WORDS.indexOf((m[2] ?? "").slice(0, 3)) + 1;
    if (month > 0) return validIso(year(m[3] ?? ""), month, Number(m[1]));
  }
  return null;
}

/** ISO → "25/11/2026", what the date fields show. */
export function ukNumericDate(iso: string | null | undefined): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : "";
}
