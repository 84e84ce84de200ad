// Which legal statuses match what a person types into the status picker: "s2" is Section 2 and
// not Section 4, "37/41" or "s37" the section 37 variants, "cto" the community treatment order.
// Pure, so it is unit-tested; the picker only shows the result.

export interface StatusOption {
  code: string;
  label: string;
}

/** Words people use for a status that its label does not contain. */
const ALIASES: Record<string, string> = {
  s17a: "cto",
  "conditional-discharge": "cd restricted",
  informal: "voluntary none",
  "s5-2": "holding",
  "s5-4": "holding",
};

/** "Section 37/41 (…)" → "37-41", "Section 5(2) (…)" → "5-2", "Section 17A (…)" → "17a". */
function sectionOf(label: string): string | null {
  const m = /^section\s+([0-9a-z]+(?:\([0-9]+\)|\/[0-9]+)?)/i.exec(label);
  return m ? normaliseNumber(m[1] ?? "") : null;
}

function normaliseNumber(s: string): string {
  return s.toLowerCase().replace(/\(([0-9]+)\)/, "-$1").replace(/[/.]/g, "-");
}

/** The section number typed ("s2", "S 37/41", "section 5(2)", "37-41", "s.17a"), if any. */
function typedSection(q: string): string | null {
  const m = /^(?:s|sec|sect|section)?\.?\s*([0-9]+[a-z]?(?:\s*[/\-(.]\s*[0-9]+\)?)?)$/.exec(q);
  return m ? normaliseNumber((m[1] ?? "").replace(/\s+/g, "")) : null;
}

export function filterStatuses(options: StatusOption[], query: string): StatusOption[] {
  const q = query.trim().toLowerCase();
  if (!q) return options;
  const section = typedSection(q);
  if (section) {
    return options.filter((o) => {
      const s = sectionOf(o.label);
      // "3" finds 3 but not 35; "37" finds 37 and 37/41; "17" finds 17A.
      return s !== null && s.startsWith(section) && !/[0-9]/.test(s.charAt(section.length));
    });
  }
  const words = q.split(/\s+/);
  return options.filter((o) => {
    const haystack = `${o.label} ${ALIASES[o.code] ?? ""}`.toLowerCase().split(/[^a-z0-9/]+/);
    return words.every((w) => haystack.some((h) => h.startsWith(w)));
  });
}
