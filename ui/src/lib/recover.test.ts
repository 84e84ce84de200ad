import { describe, expect, it } from "vitest";
import { recoverErrorField, wordList, wordsProblem } from "./recover";

const WORDS = Array.from({ length: 24 }, (_, i) => (i % 2 ? "harbour" : "kettle")).join(" ");

describe("recovery words as typed", () => {
  it("reads them across lines and numbering, in any case", () => {
    expect(wordList("1. Kettle  harbour\n3) kettle")).toEqual(["kettle", "harbour", "kettle"]);
    expect(wordsProblem(WORDS.replaceAll(" ", "\n"))).toBeNull();
  });

  it("asks for all 24, and never repeats a word back", () => {
    expect(wordsProblem("")).toBe("Enter the 24 recovery words");
    const short = wordsProblem(WORDS.split(" ").slice(1).join(" "));
    expect(short).toBe("Enter all 24 recovery words, in order: 23 words are typed");
    const odd = wordsProblem(WORDS.replace("kettle", "kett1e"));
    expect(odd).toMatch(/letters only/);
    expect(odd).not.toMatch(/kett/);
  });

  it("puts a refusal of the words beside the words, anything else beside the address", () => {
    expect(recoverErrorField({ code: "invalid", message: "x" }, "w", "s")).toBe("w");
    expect(recoverErrorField({ code: "recovery-not-enabled", message: "x" }, "w", "s")).toBe("w");
    expect(recoverErrorField({ code: "offline", message: "x" }, "w", "s")).toBe("s");
  });
});
