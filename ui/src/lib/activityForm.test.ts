import { describe, expect, it } from "vitest";
import { buildActivity, emptyForm, formFromActivity, hasContent, restoreForm, visibleFields } from "./activityForm";
import type { Activity } from "./types";

const now = new Date(2026, 10, 25, 14, 5);

describe("activity form", () => {
  it("builds a ward round with one point per line and blank lines dropped", () => {
    const s = { ...emptyForm("ward-round", now), points: "Wants leave to see her son\n\n  Medication side effects ", response: "RC will review", text: "Notes" };
    const b = buildActivity("case-1", s);
    expect(b).toEqual({
      ok: true,
      text: "Notes",
      activity: {
        case_id: "case-1",
        at: "2026-11-25T14:05:00",
        kind: { type: "ward-round", points_raised: ["Wants leave to see her son", "Medication side effects"], response: "RC will review" },
      },
    });
  });

  it("asks for what each kind needs, in plain words", () => {
    expect(buildActivity("c", emptyForm("concern", now))).toEqual({
      ok: false,
      problems: [
        { field: "raised_with", message: "Enter who the concern was raised with" },
        { field: "text", message: "Enter the note" },
      ],
    });
    expect(buildActivity("c", emptyForm("rights-information", now))).toMatchObject({ ok: false });
    expect(buildActivity("c", { ...emptyForm("other", now), duration: "0" })).toMatchObject({ ok: false });
    expect(buildActivity("c", { ...emptyForm("other", now), time: "" })).toMatchObject({ ok: false });
  });

  it("says a date that is not real must be a real date, not that it is missing", () => {
    const b = buildActivity("c", { ...emptyForm("other", now), date: "", text: "Note" }, { date: true });
    expect(b).toEqual({ ok: false, problems: [{ field: "date", message: "Date must be a real date, typed day first (for example 25/11/2026)" }] });
    const missing = buildActivity("c", { ...emptyForm("other", now), date: "", text: "Note" });
    expect(missing.ok === false && missing.problems[0]?.message).toBe("Enter the date it happened");
  });

  it("records the s130B(4) basis for records", () => {
    const s = { ...emptyForm("records-request", now), text: "Asked", record_holder: "Ward manager", basis: "lacks-capacity" as const, no_conflicting_decision_checked: true };
    const b = buildActivity("c", s);
    expect(b.ok && b.activity.kind).toMatchObject({
      type: "records-request",
      basis: { basis: "lacks-capacity-record-holder-decision", no_conflicting_decision_checked: true },
      withhold_from_patient: false,
    });
    expect(visibleFields({ kind: "records-request", basis: "consent" })).not.toContain("holder_decision");
    expect(visibleFields({ kind: "records-request", basis: "lacks-capacity" })).toContain("holder_decision");
  });

  it("marks an entry to leave out of the person's copy only when asked", () => {
    const plain = buildActivity("c", { ...emptyForm("other", now), text: "Note" });
    expect(plain.ok && "withheld" in plain.activity).toBe(false);
    const kept = buildActivity("c", { ...emptyForm("professional-interview", now), professional: "Staff nurse", withheld: "third-party", text: "Note" });
    expect(kept.ok && kept.activity.withheld).toBe("third-party");
    expect(hasContent({ ...emptyForm("other", now), withheld: "serious-harm" })).toBe(false);
  });

  it("restores a draft, ignoring fields of the wrong type or unknown", () => {
    const r = restoreForm({ kind: "concern", raised_with: "Ward manager", topics: "oops", bogus: 1, text: "half a note" });
    expect(r.kind).toBe("concern");
    expect(r.raised_with).toBe("Ward manager");
    expect(r.topics).toEqual([]);
    expect(r.text).toBe("half a note");
    expect("bogus" in r).toBe(false);
  });

  it("treats an untouched form as no draft", () => {
    expect(hasContent(emptyForm("contact", now))).toBe(false);
    expect(hasContent({ ...emptyForm("contact", now), text: "x" })).toBe(true);
  });

  it("fills the correction form from a saved activity and builds the same details back", () => {
    const saved: Activity[] = [
      { case_id: "c", at: "2026-03-02T10:15:00", duration_minutes: 40, kind: { type: "ward-round", points_raised: ["Leave", "Medication"], response: "RC to review" } },
      { case_id: "c", at: "2026-03-02T10:15:00", kind: { type: "concern", raised_with: "Ward manager", response_due: "2026-03-16" }, withheld: "third-party" },
      { case_id: "c", at: "2026-03-02T10:15:00", kind: { type: "rights-information", topics: ["rights"] } },
    ];
    for (const a of saved) {
      const b = buildActivity("c", formFromActivity(a), {}, false);
      expect(b).toEqual({ ok: true, activity: a, text: "" });
    }
  });
});
