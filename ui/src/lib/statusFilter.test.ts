import { describe, expect, it } from "vitest";
import { filterStatuses, type StatusOption } from "./statusFilter";

// The labels as the domain's vocabulary sends them (crates/domain/src/legal.rs).
const ALL: StatusOption[] = [
  ["s2", "Section 2 (admission for assessment)"],
  ["s3", "Section 3 (admission for treatment)"],
  ["s4", "Section 4 (emergency admission)"],
  ["s5-2", "Section 5(2) (doctor's holding power)"],
  ["s5-4", "Section 5(4) (nurse's holding power)"],
  ["s17a", "Section 17A (community treatment order)"],
  ["s35", "Section 35 (remand to hospital for report)"],
  ["s37", "Section 37 (hospital order)"],
  ["s37-41", "Section 37/41 (hospital order with restrictions)"],
  ["s37-guardianship", "Section 37 (guardianship order)"],
  ["s45a", "Section 45A (hospital and limitation direction)"],
  ["s47-49", "Section 47/49 (transfer of a sentenced prisoner with restrictions)"],
  ["conditional-discharge", "Conditionally discharged restricted patient"],
  ["informal", "Informal (not under a section)"],
].map(([code, label]) => ({ code: code ?? "", label: label ?? "" }));

const codes = (q: string) => filterStatuses(ALL, q).map((o) => o.code);

describe("the status picker's filter", () => {
  it("finds Section 2 from s2, not Section 4", () => {
    expect(codes("s2")).toEqual(["s2"]);
    expect(codes("S2")).toEqual(["s2"]);
    expect(codes("section 2")).toEqual(["s2"]);
    expect(codes("2")).toEqual(["s2"]);
  });
  it("finds s37 variants from s37 and the restricted order from 37/41", () => {
    expect(codes("s37")).toEqual(["s37", "s37-41", "s37-guardianship"]);
    expect(codes("37/41")).toEqual(["s37-41"]);
    expect(codes("s37-41")).toEqual(["s37-41"]);
  });
  it("does not take 3 for 35, but takes 17 for 17A and 5(2) exactly", () => {
    expect(codes("s3")).toEqual(["s3"]);
    expect(codes("s17")).toEqual(["s17a"]);
    expect(codes("s5(2)")).toEqual(["s5-2"]);
    expect(codes("s5")).toEqual(["s5-2", "s5-4"]);
    expect(codes("s45")).toEqual(["s45a"]);
  });
  it("finds the community treatment order from cto and words anywhere in a label", () => {
    expect(codes("cto")).toEqual(["s17a"]);
    expect(codes("community treat")).toEqual(["s17a"]);
    expect(codes("guardian")).toEqual(["s37-guardianship"]);
    expect(codes("informal")).toEqual(["informal"]);
    expect(codes("zzz")).toEqual([]);
  });
  it("shows everything for an empty box", () => {
    expect(codes("  ")).toHaveLength(ALL.length);
  });
});
