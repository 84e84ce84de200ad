import { describe, expect, it } from "vitest";
import {
  FIRST_TEAM,
  MOVED_AWAY,
  choosingTeams,
  moveTargets,
  movedNotice,
  newRecordTeam,
  otherTeams,
  recordTeam,
  teamInSentence,
  teamName,
  teamsProblem,
  withTeam,
} from "./teams";

const first = { id: "11111111-1111-4111-8111-111111111111", name: null };
const north = { id: "22222222-2222-4222-8222-222222222222", name: "Northgate Hospital" };
const east = { id: "33333333-3333-4333-8333-333333333333", name: "Eastfield" };
const away = "44444444-4444-4444-8444-444444444444";

describe("a new person's team", () => {
  it("is asked only of a laptop in two or more teams, defaulting to its first", () => {
    expect(choosingTeams([])).toBe(false);
    expect(choosingTeams([first])).toBe(false);
    expect(newRecordTeam([], null)).toBeNull();
    expect(newRecordTeam([first], first.id)).toBeNull();
    expect(newRecordTeam([first, north], null)).toBe(first.id);
    expect(newRecordTeam([first, north], "")).toBe(first.id);
    expect(newRecordTeam([first, north], north.id)).toBe(north.id);
  });

  it("falls back to the first team when a restored draft names a team this laptop left", () => {
    expect(newRecordTeam([first, east], north.id)).toBe(first.id);
  });

  it("names the unnamed first team", () => {
    expect(teamName(first)).toBe(FIRST_TEAM);
    expect(teamName({ ...north, name: "  " })).toBe(FIRST_TEAM);
    expect(teamName(north)).toBe("Northgate Hospital");
    expect(teamInSentence(first)).toBe("the first team");
    expect(teamInSentence(north)).toBe("Northgate Hospital");
  });
});

describe("who keeps a person's record", () => {
  it("says nothing on a laptop that is not enrolled", () => {
    expect(recordTeam(north.id, [])).toEqual({ kind: "none" });
    expect(recordTeam(null, [])).toEqual({ kind: "none" });
  });

  it("is the first team for a record without one, named only when there are several", () => {
    expect(recordTeam(null, [first])).toEqual({ kind: "mine", team: first, show: false });
    expect(recordTeam(undefined, [first, north])).toEqual({ kind: "mine", team: first, show: true });
    expect(recordTeam(north.id, [first, north])).toEqual({ kind: "mine", team: north, show: true });
  });

  it("is another team once the record moved to one this laptop is not in", () => {
    expect(recordTeam(away, [first])).toEqual({ kind: "elsewhere" });
    expect(recordTeam(away, [first, north])).toEqual({ kind: "elsewhere" });
    expect(MOVED_AWAY).toContain("You keep what you had");
  });
});

describe("moving a record", () => {
  it("offers this laptop's other teams, and nothing with one team or a record kept elsewhere", () => {
    expect(moveTargets(north.id, [first, north, east])).toEqual([first, east]);
    expect(moveTargets(null, [first, north])).toEqual([north]);
    expect(moveTargets(null, [first])).toEqual([]);
    expect(moveTargets(away, [first, north])).toEqual([]);
    expect(moveTargets(null, [])).toEqual([]);
  });

  it("says how many changes go to whom", () => {
    expect(movedNotice(12, north)).toBe("Moved: 12 changes go to Northgate Hospital's members at the next sync.");
    expect(movedNotice(1, first)).toBe("Moved: 1 change goes to the members of the first team at the next sync.");
  });
});

describe("a laptop's teams", () => {
  it("ticks and unticks without duplicates", () => {
    expect(withTeam([first.id], north.id, true)).toEqual([first.id, north.id]);
    expect(withTeam([first.id, north.id], north.id, true)).toEqual([first.id, north.id]);
    expect(withTeam([first.id, north.id], first.id, false)).toEqual([north.id]);
  });

  it("must keep at least one", () => {
    expect(teamsProblem([])).toMatch(/at least one team/);
    expect(teamsProblem([first.id])).toBeNull();
  });

  it("counts the teams an admin cannot name", () => {
    expect(otherTeams([first.id, away], [first, north])).toBe("and 1 team this laptop is not in");
    expect(otherTeams([first.id], [first, north])).toBe("");
  });
});
