import { describe, expect, it } from "vitest";
import { step, zoomKey } from "./zoom";

const key = (k: string, code = "", ctrlKey = true) => ({ ctrlKey, metaKey: false, altKey: false, key: k, code });

describe("zoom keys", () => {
  it("reads Ctrl+= and Ctrl++ as larger, Ctrl+- smaller, Ctrl+0 normal", () => {
    expect(zoomKey(key("="))).toBe("in");
    expect(zoomKey(key("+"))).toBe("in");
    expect(zoomKey(key("", "NumpadAdd"))).toBe("in");
    expect(zoomKey(key("-"))).toBe("out");
    expect(zoomKey(key("0"))).toBe("reset");
    expect(zoomKey(key("=", "", false))).toBeNull();
    expect(zoomKey(key("l"))).toBeNull();
  });
  it("moves through the steps and stops at the ends", () => {
    expect(step(100, 1)).toBe(110);
    expect(step(100, -1)).toBe(90);
    expect(step(115, 1)).toBe(125);
    expect(step(300, 1)).toBe(300);
    expect(step(50, -1)).toBe(50);
  });
});
