// Feedback while a new passphrase is typed. The store enforces the floor (10 characters, not one
// repeated character, no leading or trailing space); this only helps people go beyond it.

export interface Strength {
  score: 0 | 1 | 2 | 3 | 4;
  label: string;
  advice: string;
}

const COMMON = ["password", "passphrase", "wardside", "letmein", "qwerty", "123456", "advocate", "hospital"];

/** A rough estimate of guessing effort in bits, from length and the kinds of character. */
export function estimateBits(p: string): number {
  if (!p) return 0;
  let pool = 0;
  if (/[a-z]/.test(p)) pool += 26;
  if (/[A-Z]/.test(p)) pool += 26;
  if (/[0-9]/.test(p)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(p)) pool += 33;
  const unique = new Set(p).size;
  // Repetition adds little: count characters beyond the unique ones at a quarter.
  const effective = unique + (p.length - unique) / 4;
  let bits = effective * Math.log2(Math.max(pool, 2));
  const lower = p.toLowerCase();
  for (const w of COMMON) if (lower.includes(w)) bits -= 20;
  return Math.max(0, Math.round(bits));
}

export function strength(p: string): Strength {
  const chars = [...p].length;
  if (chars < 10) {
    return { score: 0, label: "Too short", advice: `Use at least 10 characters (${chars} so far).` };
  }
  if (p.trim() !== p) {
    return { score: 0, label: "Check the spaces", advice: "It starts or ends with a space, which is easy to get wrong." };
  }
  const bits = estimateBits(p);
  if (bits < 45) return { score: 1, label: "Weak", advice: "Add another unrelated word or two." };
  if (bits < 60) return { score: 2, label: "Fair", advice: "One more unrelated word makes it much harder to guess." };
  if (bits < 80) return { score: 3, label: "Good", advice: "Good. Make sure you can remember it." };
  return { score: 4, label: "Strong", advice: "Strong. Make sure you can remember it." };
}
