import { describe, expect, it } from "vitest";
import { buildActivity, emptyForm, hasContent, restoreForm, visibleFields } from "./activityForm";

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
    expect(buildActivity("c", emptyForm("concern", now))).toEqual({ ok: false, error: "Say who the concern was raised with." });
    expect(buildActivity("c", emptyForm("rights-information", now))).toMatchObject({ ok: false });
    expect(buildActivity("c", { ...emptyForm("other", now), duration: "0" })).toMatchObject({ ok: false });
    expect(buildActivity("c", { ...emptyForm("other", now), time: "" })).toMatchObject({ ok: false });
  });

  it("records the s130B(4) basis for records", () => {
    const s = { ...emptyForm("records-request", now), record_holder: "Ward manager", basis: "lacks-capacity" as const, no_conflicting_decision_checked: true };
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
    const kept = buildActivity("c", { ...emptyForm("professional-interview", now), professional: "Staff nurse", withheld: "third-party" });
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
});
