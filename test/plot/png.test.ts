import { describe, expect, it } from "vitest";
import { crc32, encodeIndexedPng, type RGB } from "../../src/plot/index.js";
import { decodePng, lcg } from "./helpers.js";

describe("PNG encoder", () => {
  it("computes the standard CRC-32 check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  for (const colours of [2, 3, 16, 200]) {
    it(`round-trips an indexed image with ${colours} colours through an independent decoder`, () => {
      const rnd = lcg(colours);
      const palette: RGB[] = Array.from({ length: colours }, (_, i) => [i, (i * 7) % 256, 255 - i]);
      const w = 13, h = 5; // odd width exercises bit packing at row ends
      const px = Uint8Array.from({ length: w * h }, () => Math.floor(rnd() * colours));
      const pts: [number, number][] = [];
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) pts.push([x, y]);
      const d = decodePng(encodeIndexedPng(w, h, px, palette), pts);
      expect([d.width, d.height, d.colorType]).toEqual([w, h, 3]);
      expect(d.bitDepth).toBe(colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8);
      expect(d.at).toEqual(Array.from(px, (i) => palette[i]));
    });
  }

  it("rejects inconsistent input", () => {
    expect(() => encodeIndexedPng(2, 2, new Uint8Array(3), [[0, 0, 0]])).toThrow(/pixel count/);
    expect(() => encodeIndexedPng(0, 2, new Uint8Array(0), [[0, 0, 0]])).toThrow(/bad size/);
  });
});
