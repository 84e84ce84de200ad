// What the new-client form and the details form both send: text fields trimmed, empty ones
// left out, so the store never keeps "" for "not recorded".
import type { Client, Equality } from "./types";

export const optional = (s: string): string | undefined => s.trim() || undefined;

/** "" (not stated), "yes" or "no" from a select, as an optional boolean. */
export const yesNo = (s: string): boolean | undefined => (s === "" ? undefined : s === "yes");

export interface ClientFields {
  name: string;
  dob: string;
  nhs: string;
  hospital: string;
  ward: string;
  language: string;
  interpreter: boolean;
  noRelative: boolean;
  /** The hospital's own patient number; left out, it is not recorded. */
  hospitalNumber?: string;
}

export function clientFrom(f: ClientFields, equality: Equality): Client {
  return {
    name: f.name,
    dob: optional(f.dob),
    nhs_number: optional(f.nhs),
    hospital_number: optional(f.hospitalNumber ?? ""),
    hospital: optional(f.hospital),
    ward: optional(f.ward),
    first_language: optional(f.language),
    interpreter_needed: f.interpreter,
    objects_to_relative_being_informed: f.noRelative,
    equality,
  };
}
