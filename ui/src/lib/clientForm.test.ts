import { expect, it } from "vitest";
import { clientFrom, yesNo } from "./clientForm";

it("leaves out what was not filled in and trims the rest", () => {
  const c = clientFrom(
    { name: "Siân", dob: "", nhs: " 943 476 5919 ", hospital: "Riverside", ward: "  ", language: "", interpreter: true, noRelative: false },
    { ethnic_category: "Z" },
  );
  expect(c).toEqual({
    name: "Siân",
    nhs_number: "943 476 5919",
    hospital: "Riverside",
    interpreter_needed: true,
    objects_to_relative_being_informed: false,
    equality: { ethnic_category: "Z" },
  });
  expect(JSON.parse(JSON.stringify(c))).not.toHaveProperty("dob");
  expect([yesNo(""), yesNo("yes"), yesNo("no")]).toEqual([undefined, true, false]);
});

it("keeps a hospital number when one is typed", () => {
  const fields = { name: "Ann", dob: "", nhs: "", hospital: "", ward: "", language: "", interpreter: false, noRelative: false };
  expect(clientFrom({ ...fields, hospitalNumber: " RX1 234 " }, { ethnic_category: "Z" }).hospital_number).toBe("RX1 234");
  expect(clientFrom({ ...fields, hospitalNumber: "  " }, { ethnic_category: "Z" }).hospital_number).toBeUndefined();
  expect(clientFrom(fields, { ethnic_category: "Z" }).hospital_number).toBeUndefined();
});
