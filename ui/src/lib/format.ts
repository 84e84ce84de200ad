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

export function todayIso(now: Date = new Date()): string {
  return isoLocal(now).slice(0, 10);
}

/** "in 3 days", "today", "2 days ago" for a reminder's days_left. */
export function daysLeft(n: number): string {
  if (n === 0) return "today";
  if (n === 1) return "tomorrow";
  if (n === -1) return "yesterday";
  return n < 0 ? `${-n} days ago` : `in ${n} days`;
}

/** Initials for places where a full name should not show ("Siân Ap Dafydd" → "S.A.D."). */
export function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => (w[0] ?? "").toUpperCase() + ".")
    .join("");
}
