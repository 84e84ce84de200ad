import { expect, it } from "vitest";

// The webview's confirm()/alert()/prompt() are replaced by Tauri's dialog plugin with
// asynchronous versions whose result is a promise (always truthy): "Cancel" would still delete.
// Every question goes through confirmAction (lib/confirm.svelte.ts) instead.
const sources = import.meta.glob<string>(["../**/*.svelte", "../**/*.ts", "!../**/*.test.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
});

it("no screen uses the webview's own confirm, alert or prompt", () => {
  expect(Object.keys(sources).length).toBeGreaterThan(20);
  const offenders = Object.entries(sources).flatMap(([file, text]) =>
    text
      .split("\n")
      .map((line, i) => ({ line, i }))
      .filter(({ line }) => !/^\s*(\/\/|\*)/.test(line))
      .filter(({ line }) => /(^|[^\w.])(window\.)?(confirm|alert|prompt)\s*\(/.test(line))
      .map(({ line, i }) => `${file}:${i + 1}: ${line.trim()}`),
  );
  expect(offenders).toEqual([]);
});
