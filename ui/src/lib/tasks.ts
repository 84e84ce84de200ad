// Presenting tasks: day headings ("Today", "Tomorrow", "Thursday 3 December"), groups by day,
// and the words for a task's state. What a task is and when it is due is decided in Rust.
import { localInstant, ukDate } from "./format";
import type { CaseTask } from "./types";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

function utc(iso: string): Date {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
}

/** Whole days from `today` to `iso` (both "YYYY-MM-DD"). */
export function daysBetween(today: string, iso: string): number {
  return Math.round((utc(iso).getTime() - utc(today).getTime()) / 86_400_000);
}

/** "Monday 30 November" (with the year when it is not this year's). */
export function longDate(iso: string, today: string): string {
  const d = utc(iso);
  const year = d.getUTCFullYear() === utc(today).getUTCFullYear() ? "" : ` ${d.getUTCFullYear()}`;
  return `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}${year}`;
}

/** "Today", "Tomorrow", "Yesterday", or the long date. */
export function dayHeading(iso: string, today: string): string {
  const n = daysBetween(today, iso);
  if (n === 0) return "Today";
  if (n === 1) return "Tomorrow";
  if (n === -1) return "Yesterday";
  return longDate(iso, today);
}

export interface DayGroup<T> {
  date: string;
  heading: string;
  items: T[];
}

/** Items (already in date order) grouped by their due day, each group with its heading. */
export function groupByDay<T extends { due: string }>(items: T[], today: string): DayGroup<T>[] {
  const groups: DayGroup<T>[] = [];
  for (const item of items) {
    const last = groups[groups.length - 1];
    if (last && last.date === item.due) last.items.push(item);
    else groups.push({ date: item.due, heading: dayHeading(item.due, today), items: [item] });
  }
  return groups;
}

/** Every day from `from` to `to` inclusive, as ISO dates. */
export function daysFrom(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = utc(from); d.getTime() <= utc(to).getTime(); d = new Date(d.getTime() + 86_400_000)) {
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

/** The ISO date `n` days after `iso`. */
export function addDays(iso: string, n: number): string {
  return new Date(utc(iso).getTime() + n * 86_400_000).toISOString().slice(0, 10);
}

/** "09:30:00" → "09:30". */
export function shortTime(time: string | undefined): string {
  return time ? time.slice(0, 5) : "";
}

/** The words for where a task stands: who marked it done and when, a snooze and its reason. */
export function stateLine(t: CaseTask): string {
  switch (t.state) {
    case "done":
      return `Done by ${t.by}, ${localInstant(t.at)}`;
    case "snoozed":
      return `Snoozed until ${ukDate(t.until)}: ${t.reason} (${t.by})`;
    default:
      if (t.status === "overdue") return `Overdue since ${ukDate(t.due)}`;
      if (t.status === "past") return "Held";
      return "";
  }
}
