import { expect, it } from "vitest";
import { snippetParts } from "./snippet";

it("marks hits and keeps markup-like text as text", () => {
  expect(snippetParts("…asked about [tribunal] <b>dates</b>")).toEqual([
    { text: "…asked about ", hit: false },
    { text: "tribunal", hit: true },
    { text: " <b>dates</b>", hit: false },
  ]);
  expect(snippetParts("no hits")).toEqual([{ text: "no hits", hit: false }]);
});
