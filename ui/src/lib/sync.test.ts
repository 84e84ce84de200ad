import { describe, expect, it } from "vitest";
import {
  restoreLine,
  deviceLabel,
  keptBack,
  opsLabel,
  problemLine,
  problemTitle,
  progressText,
  reportSummary,
  sentence,
  statusLine,
  syncError,
} from "./sync";
import type { DeviceInfo, SyncProblem, SyncReport, SyncSummary } from "./types";

const BEA = "0193a4b2-7c1d-7e2f-9a3b-4c5d6e7f8091";
const STRANGER = "f00dcafe-1234-4abc-8def-0123456789ab";

const devices: DeviceInfo[] = [
  { device_id: BEA, name: "Bea's laptop", fingerprint: "3F9A-21CX-77BE-KD0P", status: "approved", admin: false, teams: [] },
  { device_id: STRANGER, name: "Bea's laptop", fingerprint: "0000-0000-0000-0000", status: "pending", admin: false, teams: [] },
];

function summary(over: Partial<SyncSummary> = {}): SyncSummary {
  return { enrolled: true, status: "approved", last_sync: null, unsynced: 0, conflicts: 0, inbox: 0, held: 0, problems: 0, ...over };
}

function problem(over: Partial<SyncProblem> = {}): SyncProblem {
  return { kind: "tampered", device_id: BEA, team_id: null, seq_from: 4, seq_to: 7, count: 4, detail: "4 op(s) changed on the way", ...over };
}

function report(over: Partial<SyncReport> = {}): SyncReport {
  return { pushed: 2, pulled: 5, conflicts: 0, unsynced: 0, held: 0, rejected: 0, refills: 0, resent: 0, service_restored: false, given_back: 0, problems: [], ...over };
}

describe("the header's sync line", () => {
  it("says when sync is not set up", () => {
    expect(statusLine(null)).toEqual([{ text: "Sync not set up", tone: "plain" }]);
    expect(statusLine(summary({ enrolled: false }))).toEqual([{ text: "Sync not set up", tone: "plain" }]);
  });
  it("counts what has not gone, what to look at, and problems as a warning", () => {
    expect(statusLine(summary()).map((p) => p.text)).toEqual(["All changes synced"]);
    expect(statusLine(summary({ unsynced: 1 }))[0]?.text).toBe("1 change not yet synced");
    const line = statusLine(summary({ unsynced: 3, conflicts: 1, inbox: 1, problems: 2 }));
    expect(line).toEqual([
      { text: "3 changes not yet synced", tone: "plain" },
      { text: "2 to look at", tone: "attention" },
      { text: "2 sync problems", tone: "problem" },
    ]);
    expect(statusLine(summary({ problems: 1 }))[1]).toEqual({ text: "1 sync problem", tone: "problem" });
  });
  it("leads with the laptop's standing when it is not approved", () => {
    expect(statusLine(summary({ status: "pending", unsynced: 2 })).map((p) => p.text)).toEqual([
      "Waiting for approval",
      "2 changes not yet synced",
    ]);
    expect(statusLine(summary({ status: "revoked", unsynced: 1 }))[0]).toEqual({
      text: "Removed from your organisation",
      tone: "attention",
    });
    expect(statusLine(summary({ status: "re-enrol" }))[0]?.text).toBe("Connect again");
  });
});

describe("a sync problem", () => {
  it("names one op or a range of them", () => {
    expect(opsLabel(4, 7)).toBe("ops 4–7");
    expect(opsLabel(4, 4)).toBe("op 4");
    expect(opsLabel(4, null)).toBe("op 4");
    expect(opsLabel(null, 9)).toBe("up to op 9");
    expect(opsLabel(null, null)).toBe("");
  });
  it("names a device by the name an admin approved, else by a short id", () => {
    expect(deviceLabel(BEA, devices)).toBe("Bea's laptop");
    // A pending device's name is only what the service says.
    expect(deviceLabel(STRANGER, devices)).toBe("device f00dcafe");
    expect(deviceLabel(BEA, null)).toBe("device 0193a4b2");
    expect(deviceLabel(BEA, [{ ...devices[0]!, status: "revoked" }])).toBe("Bea's laptop (removed)");
    expect(deviceLabel(null, devices)).toBe("");
  });
  it("reads as what, which device, which ops, and the backend's sentence", () => {
    expect(problemLine(problem(), devices)).toEqual({
      title: "Changes altered on the way",
      where: "Bea's laptop, ops 4–7",
      detail: "4 ops changed on the way.",
    });
    expect(problemLine(problem({ seq_from: 4, seq_to: 4, count: 1, detail: "1 op(s) from a device no admin has approved: held, not applied", kind: "unknown-device", device_id: STRANGER }), devices)).toEqual({
      title: "Changes from a device no admin approved",
      where: "device f00dcafe, op 4",
      detail: "1 op from a device no admin has approved: held, not applied.",
    });
    const trust = problemLine(problem({ kind: "trust-log", device_id: null, seq_from: null, seq_to: null, detail: "the service's copy differs at statement 3: it was altered; nothing after it was used" }));
    expect(trust.where).toBe("");
    expect(trust.detail).toBe("The service's copy differs at statement 3: it was altered; nothing after it was used.");
  });
  it("has a heading even for a kind this version does not know", () => {
    expect(problemTitle("gap")).toBe("Changes missing");
    expect(problemTitle("something-new")).toBe("Something is wrong with what was synced");
  });
  it("tidies the backend's sentences", () => {
    expect(sentence("2 team key(s) the service offered were refused")).toBe("2 team keys the service offered were refused.");
    expect(sentence("kept 1 change(s) here.")).toBe("Kept 1 change here.");
    expect(sentence("ops 4–7 of this device are missing")).toBe("Ops 4–7 of this device are missing.");
    expect(sentence("")).toBe("");
  });
});

describe("changes kept back", () => {
  it("tells held-for-a-problem from waiting-for-a-key", () => {
    expect(keptBack(0, [])).toBe("");
    expect(keptBack(1, [])).toBe("1 change this laptop cannot read yet (waiting for a key or a newer Wardside)");
    expect(keptBack(1, [problem({ count: 1 })])).toBe("1 change held because of the sync problems listed");
    expect(keptBack(5, [problem({ count: 4 }), problem({ kind: "counts", count: 1 })])).toBe(
      "4 changes held because of the sync problems listed; 1 change this laptop cannot read yet (waiting for a key or a newer Wardside)",
    );
  });
});

describe("a finished sync", () => {
  it("says what went and came, clean", () => {
    expect(reportSummary(report())).toEqual({ text: "Synced: 2 sent, 5 received.", clean: true });
  });
  it("says what was kept back or sent again, and points at the problems for what was refused", () => {
    const r = reportSummary(report({ held: 3, rejected: 1, resent: 2, problems: [problem()] }));
    expect(r.clean).toBe(false);
    expect(r.text).toBe(
      "Synced: 2 sent, 5 received, 2 of yours sent again (the sync service had lost them), 2 kept until this laptop can read them. Found 1 sync problem: listed below.",
    );
    expect(reportSummary(report({ held: 1 })).text).toBe("Synced: 2 sent, 5 received, 1 kept until this laptop can read it.");
  });
});

describe("sync errors", () => {
  it("give the new codes a heading and the message as a sentence", () => {
    expect(syncError({ code: "sync-revoked", message: "an admin removed this device; 2 change(s) made here are kept" })).toEqual({
      title: "An admin removed this laptop from your organisation",
      text: "An admin removed this device; 2 changes made here are kept.",
    });
    expect(syncError({ code: "sync-revoked-claim", message: "x" }).title).toBe("The sync service refuses this laptop");
    expect(syncError({ code: "sync-untrusted", message: "x" }).title).toBe("The sync service could not be trusted");
    expect(syncError({ code: "sync-cancelled", message: "x" }).title).toBe("Sync stopped when Wardside locked");
  });
  it("shows a mistyped code's message on its own", () => {
    expect(syncError({ code: "invalid", message: "that code is mistyped (its check letter does not match); check it with the admin who made it" })).toEqual({
      title: null,
      text: "That code is mistyped (its check letter does not match); check it with the admin who made it.",
    });
  });
});

describe("a sync that is running", () => {
  it("says what it is doing in words, with counts once it knows them", () => {
    expect(progressText(null)).toBe("");
    expect(progressText({ phase: "done", done: 0, total: 0 })).toBe("");
    expect(progressText({ phase: "starting", done: 0, total: 0 })).toBe("Syncing…");
    expect(progressText({ phase: "receiving", done: 16000, total: 200000 })).toBe("Receiving 16,000 of 200,000 changes");
    expect(progressText({ phase: "sending", done: 1, total: 1 })).toBe("Sending 1 of 1 change");
    expect(progressText({ phase: "receiving", done: 5, total: 0 })).toBe("Syncing…");
  });
  it("leads the header's line while it runs, and leaves it when it ends", () => {
    const running = { phase: "receiving" as const, done: 32000, total: 200000 };
    expect(statusLine(summary({ unsynced: 1 }), running).map((p) => p.text)).toEqual([
      "Receiving 32,000 of 200,000 changes",
      "1 change not yet synced",
    ]);
    expect(statusLine(summary(), { phase: "done", done: 0, total: 0 }).map((p) => p.text)).toEqual(["All changes synced"]);
  });
});

describe("a refusal from the sync service", () => {
  it("gets a heading and the backend's words as a sentence", () => {
    const shown = syncError({ code: "sync-refused", message: "the sync service refused: this laptop is not allowed to do that (HTTP 403). Ask an admin of your organisation" });
    expect(shown.title).toBe("The sync service refused");
    expect(shown.text).toBe("The sync service refused: this laptop is not allowed to do that (HTTP 403). Ask an admin of your organisation.");
  });
});

describe("a restored sync service", () => {
  it("is said once, in the report of the sync that found it, with what was given back", () => {
    const r = reportSummary(report({ service_restored: true, resent: 2, given_back: 5 }));
    expect(r.text).toMatch(/^The sync service was restored from an older backup\./);
    expect(r.text).toContain("5 from other laptops given back");
    expect(r.text).toContain("nothing was lost");
    expect(r.clean).toBe(true);
    expect(reportSummary(report()).text).not.toContain("restored");
  });

  it("stays in the status list in plain words", () => {
    const done = restoreLine({
      found_at: "2026-11-30T09:15:00+00:00",
      why: "the sync service was restored from a backup (its storage changed since the last sync)",
      pending: false,
      resent: 1,
      given_back: 12,
    });
    expect(done).toBe(
      "Found on 2026-11-30: the sync service was restored from a backup (its storage changed since the last sync). This laptop queued 1 of its own changes to send again and gave back 12 changes from other laptops.",
    );
    expect(restoreLine({ found_at: "2026-11-30T09:15:00+00:00", why: "x", pending: true, resent: 0, given_back: 0 })).toContain(
      "still giving back",
    );
  });
});
