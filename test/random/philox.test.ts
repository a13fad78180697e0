import { describe, expect, it } from "vitest";
import { philox4x32, streamWords } from "../../src/random/philox.js";

const hex = (a: Uint32Array) => Array.from(a, (w) => w.toString(16).padStart(8, "0")).join(" ");

describe("philox4x32-10", () => {
  // Known-answer vectors published with the Random123 reference implementation.
  it("matches the reference known-answer vectors", () => {
    const out = new Uint32Array(4);
    philox4x32(0, 0, 0, 0, 0, 0, out);
    expect(hex(out)).toBe("6627e8d5 e169c58d bc57ac4c 9b00dbd8");
    philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out);
    expect(hex(out)).toBe("408f276d 41c83b0e a20bc7c6 6d5451fd");
    philox4x32(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, out);
    expect(hex(out)).toBe("d16cfe09 94fdcceb 5001e420 24126ea1");
  });

  it("gives the same stream however it is cut into pieces", () => {
    const whole = new Uint32Array(103);
    streamWords(7, 9, 5, whole);
    const pieces = new Uint32Array(103);
    for (const [from, to] of [[0, 3], [3, 50], [50, 51], [51, 103]] as const) {
      const part = new Uint32Array(to - from);
      streamWords(7, 9, 5 + from, part);
      pieces.set(part, from);
    }
    expect(hex(pieces)).toBe(hex(whole));
  });
});
