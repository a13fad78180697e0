import { describe, expect, it } from "vitest";
import { key, split } from "../../src/random/keys.js";
import { bernoulli, normal, permutation, randint, uniform } from "../../src/random/index.js";
import { fillBernoulli, fillNormal, fillRandint, fillUniform, scaleWord64 } from "../../src/random/sampling.js";
import * as backend from "../../src/backend/index.js";
import { chi2Critical, chi2Uniform, moments, normalCdf } from "./stats.js";

const N = 1_000_000;
const f32 = (xs: number[]) => xs.map(Math.fround);

// Golden values recomputed independently by test/random/golden.py.
describe("golden values of key(42)", () => {
  const k = key(42);
  it("uniform", () => {
    expect(Array.from(uniform(k, [6]).data)).toEqual(
      f32([0.6129598617553711, 0.4685865044593811, 0.07323169708251953, 0.3408614993095398, 0.9877186417579651, 0.32706332206726074]),
    );
    expect(Array.from(uniform(k, [4], { low: -2, high: 3 }).data)).toEqual(
      f32([1.0647993087768555, 0.3429325222969055, -1.6338415145874023, -0.295692503452301]),
    );
  });
  it("normal", () => {
    expect(Array.from(normal(k, [6]).data)).toEqual(
      f32([-0.9701897501945496, 0.19401903450489044, -1.235620141029358, 1.9239271879196167, -0.07318145781755447, 0.13913752138614655]),
    );
  });
  it("bernoulli", () => {
    expect(Array.from(bernoulli(k, [16], 0.5).data)).toEqual([0, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  });
  it("randint", () => {
    expect(Array.from(randint(k, [8], -5, 7).data)).toEqual([2, -5, 6, 1, 4, 2, 3, 2]);
  });
  it("permutation", () => {
    expect(Array.from(permutation(k, 10))).toEqual([5, 8, 1, 2, 9, 4, 3, 7, 0, 6]);
  });
});

describe("statistics over 1e6 draws (each bound fails by chance with probability < 1e-6)", () => {
  it("uniform: mean, variance within 5 sigma; chi-square over 100 bins", () => {
    const x = uniform(key(1), [N]).data;
    const { mean, variance } = moments(x);
    // sd of the mean: sqrt(1/12 / N); sd of the variance estimate: sqrt((1/80 − 1/144) / N).
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N));
    const bins = new Float64Array(100);
    for (const v of x) bins[Math.floor(v * 100)]++;
    expect(chi2Uniform(bins)).toBeLessThan(chi2Critical(99));
    expect(x.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(0);
    expect(x.reduce((a, b) => Math.max(a, b))).toBeLessThan(1);
  });

  it("uniform with bounds stays in [low, high)", () => {
    const x = uniform(key(2), [100_000], { low: -3, high: 0.5 }).data;
    expect(x.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(-3);
    expect(x.reduce((a, b) => Math.max(a, b))).toBeLessThan(0.5);
    // Rounding to float32 next to `high` must not reach it.
    const y = uniform(key(3), [100_000], { low: 1e7, high: 1e7 + 1 }).data;
    expect(y.reduce((a, b) => Math.max(a, b))).toBeLessThan(1e7 + 1);
  });

  it("normal: mean, variance and fourth moment within 5 sigma; chi-square over 20 equiprobable bins", () => {
    const z = normal(key(4), [N]).data;
    const { mean, variance } = moments(z);
    let m4 = 0;
    for (const v of z) m4 += v ** 4;
    m4 /= N;
    // sd of the mean 1/sqrt(N); of the variance sqrt(2/N); of E z^4: sqrt((105 − 9)/N).
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
    const bins = new Float64Array(20);
    for (const v of z) bins[Math.min(19, Math.floor(normalCdf(v) * 20))]++;
    expect(chi2Uniform(bins)).toBeLessThan(chi2Critical(19));
  });

  it("normal honours mean and std", () => {
    const z = normal(key(5), [100_000], { mean: 3, std: 0.5 }).data;
    const { mean, variance } = moments(z);
    expect(Math.abs(mean - 3)).toBeLessThan(5 * 0.5 / Math.sqrt(100_000));
    expect(Math.abs(variance - 0.25)).toBeLessThan(5 * 0.25 * Math.sqrt(2 / 100_000));
  });

  it("bernoulli: kept fraction within 4 sigma (false failure < 6.4e-5) for several p", () => {
    for (const p of [0.1, 0.5, 0.8]) {
      const b = bernoulli(key(6), [N], p).data;
      let s = 0;
      for (const v of b) s += v;
      expect(Math.abs(s / N - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N));
    }
    expect(bernoulli(key(6), [1000], 0).data.every((v) => v === 0)).toBe(true);
    expect(bernoulli(key(6), [1000], 1).data.every((v) => v === 1)).toBe(true);
  });

  it("bernoulli(p) is exactly the backend's dropout keep rule", () => {
    const k = key(77);
    const n = 10_001;
    const x = new Float32Array(n).fill(1);
    const out = new Float32Array(n);
    const mask = new Float32Array(n);
    backend.dropout(k.k0, k.k1, 0, 0.7, 1, x, out, mask);
    expect(Array.from(bernoulli(k, [n], 0.7).data)).toEqual(Array.from(mask));
  });

  it("permutation: all 120 orders of 5 equally likely (chi-square, 119 dof, 120000 draws)", () => {
    const counts = new Float64Array(120);
    const code = (p: Int32Array) => {
      // Lehmer code → index in 0..119.
      let c = 0;
      for (let i = 0; i < 5; i++) {
        let smaller = 0;
        for (let j = i + 1; j < 5; j++) if (p[j]! < p[i]!) smaller++;
        c = c * (5 - i) + smaller;
      }
      return c;
    };
    const keys = split(key(8), 120_000);
    for (const k of keys) counts[code(permutation(k, 5))]++;
    expect(chi2Uniform(counts)).toBeLessThan(chi2Critical(119));
  });

  it("permutation of a large n is a permutation and moves element positions uniformly", () => {
    const n = 1000;
    const p = permutation(key(9), n);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    // Position of element 0 over 20000 permutations of 10: chi-square over 10 positions.
    const pos = new Float64Array(10);
    for (const k of split(key(10), 20_000)) pos[permutation(k, 10).indexOf(0)]++;
    expect(chi2Uniform(pos)).toBeLessThan(chi2Critical(9));
    expect(permutation(key(1), 0).length).toBe(0);
    expect(Array.from(permutation(key(1), 1))).toEqual([0]);
  });

  it("randint covers its range uniformly and stays inside it", () => {
    const x = randint(key(11), [N], -3, 4).data;
    const counts = new Float64Array(7);
    for (const v of x) counts[v + 3]++;
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b)).toBe(N);
    expect(chi2Uniform(counts)).toBeLessThan(chi2Critical(6));
    const big = randint(key(12), [100_000], -(2 ** 24), 2 ** 24).data;
    expect(big.every((v) => Number.isInteger(v) && v >= -(2 ** 24) && v < 2 ** 24)).toBe(true);
  });

  it("the 64-bit multiply is exact: floor(x·r / 2^64) against BigInt", () => {
    const w = uniform(key(13), [3000]).data; // any varied numbers will do; turn them into words
    for (let i = 0; i + 2 < w.length; i += 3) {
      const hi = Math.floor(w[i]! * 2 ** 32) >>> 0;
      const lo = Math.floor(w[i + 1]! * 2 ** 32) >>> 0;
      const r = Math.max(1, Math.floor(w[i + 2]! * 2 ** 32) >>> 0);
      const x = (BigInt(hi) << 32n) | BigInt(lo);
      expect(scaleWord64(hi, lo, r)).toBe(Number((x * BigInt(r)) >> 64n));
    }
    expect(scaleWord64(0xffffffff, 0xffffffff, 0xffffffff)).toBe(0xfffffffe);
  });
});

describe("stream chunking", () => {
  const k = key(314);
  const pieces = [[0, 1], [1, 4], [4, 37], [37, 38], [38, 101]] as const;
  for (const [name, fill] of [
    ["uniform", (out: Float32Array, off: number) => fillUniform(k, out, -1, 2, off)],
    ["normal", (out: Float32Array, off: number) => fillNormal(k, out, 0, 1, off)],
    ["bernoulli", (out: Float32Array, off: number) => fillBernoulli(k, out, 0.4, off)],
    ["randint", (out: Float32Array, off: number) => fillRandint(k, out, 0, 1000, off)],
  ] as const) {
    it(`${name}: pieces at odd offsets give the same numbers as one fill`, () => {
      const whole = new Float32Array(101);
      fill(whole, 3);
      const parts = new Float32Array(101);
      for (const [a, b] of pieces) {
        const part = new Float32Array(b - a);
        fill(part, 3 + a);
        parts.set(part, a);
      }
      expect(Array.from(parts)).toEqual(Array.from(whole));
    });
  }
});

describe("sampler arguments", () => {
  it("rejects bad arguments with clear errors", () => {
    expect(() => uniform(key(1), [2], { low: 1, high: 1 })).toThrow(/uniform: need finite low < high/);
    expect(() => bernoulli(key(1), [2], 1.5)).toThrow(/bernoulli: p must be in \[0, 1\]/);
    expect(() => randint(key(1), [2], 3, 3)).toThrow(/randint/);
    expect(() => permutation(key(1), -1)).toThrow(/permutation/);
    expect(() => normal(key(1), [2, -1])).toThrow(/normal: invalid shape/);
  });
  it("returns tensors of the requested shape", () => {
    expect(uniform(key(1), [2, 3]).shape).toEqual([2, 3]);
    expect(normal(key(1), [3, 1, 2]).shape).toEqual([3, 1, 2]);
    expect(normal(key(1), [5]).data.length).toBe(5);
  });
});
