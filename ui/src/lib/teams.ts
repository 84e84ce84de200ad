// Teams' words and choices: which team keeps a person's record, which teams to offer, and what
// a move or a change of a laptop's teams says. No store and no network here: screens pass in what
// api.ts gave them (this laptop's teams, its first team first) and show what comes back.
import type { SyncTeam } from "./types";
import { plural } from "./format";

/** The organisation's first team was never given a name: what lists and selects call it. */
export const FIRST_TEAM = "First team";

/** A team as lists and selects show it. */
export function teamName(t: SyncTeam): string {
  return t.name?.trim() || FIRST_TEAM;
}

/** A team inside a sentence: its name, or "the first team". */
export function teamInSentence(t: SyncTeam): string {
  return t.name?.trim() || "the first team";
}

/** Is there a choice of team to make (or show)? Only for a laptop in two or more. */
export function choosingTeams(teams: readonly SyncTeam[]): boolean {
  return teams.length > 1;
}

/**
 * The team a new person's record goes to: the one chosen if this laptop is still in it, else
 * the laptop's first team; null when there is no choice to make (one team, or not enrolled).
 */
export function newRecordTeam(teams: readonly SyncTeam[], chosen: string | null | undefined): string | null {
  if (!choosingTeams(teams)) return null;
  return teams.find((t) => t.id === chosen)?.id ?? teams[0]?.id ?? null;
}

/**
 * Who keeps a person's record, as this laptop sees it:
 * - `none`: not enrolled, nothing to say;
 * - `mine`: a team this laptop is in (`show`: worth naming, the laptop being in several);
 * - `elsewhere`: a team this laptop is not in (the record moved): changes to it are refused here.
 * A record without a team is kept by the laptop's first team.
 */
export type RecordTeam =
  | { kind: "none" }
  | { kind: "mine"; team: SyncTeam; show: boolean }
  | { kind: "elsewhere" };

export function recordTeam(team: string | null | undefined, teams: readonly SyncTeam[]): RecordTeam {
  if (teams.length === 0) return { kind: "none" };
  const mine = team ? teams.find((t) => t.id === team) : teams[0];
  if (!mine) return { kind: "elsewhere" };
  return { kind: "mine", team: mine, show: choosingTeams(teams) };
}

/** The banner on the record of a person whose record moved to a team this laptop is not in. */
export const MOVED_AWAY =
  "This person's record moved to another team. You keep what you had; changes go to that team's members.";

/** The teams a record kept by `team` can move to: this laptop's others. */
export function moveTargets(team: string | null | undefined, teams: readonly SyncTeam[]): SyncTeam[] {
  const from = recordTeam(team, teams);
  if (from.kind !== "mine" || !from.show) return [];
  return teams.filter((t) => t.id !== from.team.id);
}

/** "Moved: 12 changes go to Northgate's members at the next sync." */
export function movedNotice(carried: number, to: SyncTeam): string {
  const who = to.name?.trim() ? `${to.name.trim()}'s members` : `the members of ${teamInSentence(to)}`;
  return `Moved: ${plural(carried, "change")} ${carried === 1 ? "goes" : "go"} to ${who} at the next sync.`;
}

/** A laptop's teams with one of them ticked or unticked (the order kept; no duplicates). */
export function withTeam(current: readonly string[], team: string, on: boolean): string[] {
  const rest = current.filter((t) => t !== team);
  return on ? [...rest, team] : rest;
}

/** What is wrong with a laptop's new list of teams, or null: a laptop is in at least one. */
export function teamsProblem(teams: readonly string[]): string | null {
  return teams.length === 0 ? "Tick at least one team: a laptop in no team receives nothing." : null;
}

/** A laptop's teams this laptop cannot name (it is not in them), as words; "" when none. */
export function otherTeams(deviceTeams: readonly string[], mine: readonly SyncTeam[]): string {
  const n = deviceTeams.filter((t) => !mine.some((m) => m.id === t)).length;
  return n === 0 ? "" : `and ${plural(n, "team")} this laptop is not in`;
}
