import { describe, expect, it } from "vitest";
import { Key, foldIn, key, manualSeed, nextKey, split } from "../../src/random/keys.js";
import { uniform } from "../../src/random/index.js";
import { streamWords, wordToUniform } from "../../src/random/philox.js";
import { correlation } from "./stats.js";

// Golden values recomputed independently by test/random/golden.py (Python Philox from the paper).
describe("keys", () => {
  it("makes keys from seeds: low word first, two's complement for negatives", () => {
    expect(String(key(42))).toBe("Key(0x0000002a, 0x00000000)");
    expect(String(key(-1))).toBe("Key(0xffffffff, 0xffffffff)");
    expect(String(key(2 ** 40 + 5))).toBe("Key(0x00000005, 0x00000100)");
  });

  it("is immutable and printable", () => {
    const k = key(7);
    expect(Object.isFrozen(k)).toBe(true);
    expect(() => {
      (k as { k0: number }).k0 = 1;
    }).toThrow();
    expect(JSON.stringify(k)).toBe("[7,0]");
  });

  it("rejects bad seeds and data", () => {
    expect(() => key(1.5)).toThrow(/seed must be a safe integer/);
    expect(() => key(2 ** 53)).toThrow(/safe integer/);
    expect(() => foldIn(key(1), -1)).toThrow(/foldIn: data/);
    expect(() => split(key(1), 1.5)).toThrow(/split: n/);
    expect(() => split({ k0: 1, k1: 2 } as Key)).toThrow(/expected a Key/);
  });

  it("matches the golden split and foldIn keys", () => {
    expect(split(key(42), 3).map(String)).toEqual([
      "Key(0x02933769, 0x2051e913)",
      "Key(0x3b68b038, 0xb62c409c)",
      "Key(0x20ff9139, 0xfdd21d94)",
    ]);
    expect(String(foldIn(key(42), 7))).toBe("Key(0x45cb058d, 0x1bf271b2)");
  });

  it("split is a prefix-stable function of n (key i does not depend on n)", () => {
    expect(split(key(9), 5).slice(0, 2).map(String)).toEqual(split(key(9)).map(String));
  });

  it("derives distinct keys: 2000 split and 2000 foldIn keys are all different and differ from the parent", () => {
    const k = key(123);
    const all = [...split(k, 2000), ...Array.from({ length: 2000 }, (_, i) => foldIn(k, i)), k].map(String);
    expect(new Set(all).size).toBe(all.length);
  });

  it("split streams are uncorrelated with each other and with the parent stream", () => {
    // For independent streams the sample correlation of n = 1e5 pairs has sd 1/sqrt(n) ≈ 0.00316;
    // the bound 5/sqrt(n) fails with probability < 6e-7 per pair.
    const n = 100_000;
    const k = key(2024);
    const [a, b] = split(k);
    const streams = [k, a!, b!, foldIn(k, 0)].map((kk) => uniform(kk, [n]).data);
    for (let i = 0; i < streams.length; i++) {
      for (let j = i + 1; j < streams.length; j++) {
        expect(Math.abs(correlation(streams[i]!, streams[j]!))).toBeLessThan(5 / Math.sqrt(n));
      }
    }
    // Lag-1 correlation inside one stream, same bound.
    const s = streams[1]!;
    expect(Math.abs(correlation(s.subarray(0, n - 1), s.subarray(1)))).toBeLessThan(5 / Math.sqrt(n));
  });

  it("manualSeed sets the default stream: nextKey() is foldIn(key(seed), 0), 1, ...", () => {
    manualSeed(5);
    const drawn = [nextKey(), nextKey(), nextKey()].map(String);
    expect(drawn).toEqual([0, 1, 2].map((i) => String(foldIn(key(5), i))));
    manualSeed(5);
    const a = uniform([4]).data;
    const b = uniform([4]).data;
    manualSeed(5);
    expect(Array.from(uniform([4]).data)).toEqual(Array.from(a));
    expect(Array.from(uniform(foldIn(key(5), 1), [4]).data)).toEqual(Array.from(b));
  });

  it("keys the sampling stream: uniform word j of a key is its stream word j", () => {
    const k = key(42);
    const w = new Uint32Array(6);
    streamWords(k.k0, k.k1, 0, w);
    expect(Array.from(w, (x) => "0x" + x.toString(16).padStart(8, "0"))).toEqual([
      "0x9ceaf053", "0x77f5493b", "0x12bf50ad", "0x5742b3d7", "0xfcdb2127", "0x53ba6cfd",
    ]);
    expect(Array.from(uniform(k, [6]).data)).toEqual(Array.from(w, wordToUniform));
  });
});
