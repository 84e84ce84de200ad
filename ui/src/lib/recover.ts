// Recovering the organisation with its 24 recovery words: the checks the form makes before the
// words leave the page (for the person's sake only: Wardside checks them again), and where a
// refusal belongs. No network and no store here.
import type { AppError } from "./types";

/** The words as typed, one space between each, lower case: line breaks and numbering go. */
export function wordList(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/^\d+[.)]?/, ""))
    .filter((w) => w.length > 0);
}

/** What is wrong with the words before sending them, or null. Never repeats a word. */
export function wordsProblem(text: string): string | null {
  const words = wordList(text);
  if (words.length === 0) return "Enter the 24 recovery words";
  if (words.some((w) => !/^[a-z]+$/.test(w))) {
    return "Recovery words are letters only: check for a digit or a mark copied by mistake";
  }
  if (words.length !== 24) {
    return `Enter all 24 recovery words, in order: ${words.length === 1 ? "1 word is" : `${words.length} words are`} typed`;
  }
  return null;
}

/**
 * Which of the form's boxes a refusal is about: the words (mistyped, or of no organisation on
 * that service, or not turned on yet), else the service's address (offline, refused).
 */
export function recoverErrorField(e: AppError, wordsId: string, serverId: string): string {
  return e.code === "invalid" || e.code === "recovery-not-enabled" ? wordsId : serverId;
}
