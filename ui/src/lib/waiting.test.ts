import { expect, it } from "vitest";
import { draftLabel, draftView } from "./waiting";

const d = (form: string, form_key: string, case_id: string | null) => ({ form, form_key, case_id, name: "A", saved_at: "" });

it("takes each kind of draft back to the form that holds it", () => {
  expect(draftView(d("safeguarding", "safeguarding:c1", "c1"))).toEqual({ name: "case", id: "c1", form: "safeguarding" });
  expect(draftView(d("outcome", "outcome:i9", "c1"))).toEqual({ name: "case", id: "c1", form: "outcome:i9" });
  expect(draftView(d("activity", "activity:c1", "c1"))).toEqual({ name: "case", id: "c1" });
  expect(draftView(d("new-client", "new-client", null))).toEqual({ name: "new-client" });
  expect(draftView(d("consent", "consent:p1", null))).toBeNull();
  expect(draftLabel(d("close", "close:c1", "c1"))).toBe("Closing the case");
});
