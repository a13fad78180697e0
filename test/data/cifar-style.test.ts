import { describe, expect, it } from "vitest";
import { key } from "../../src/random/keys.js";
import { CIFAR_STYLE_CLASSES, cifarStyle } from "../../src/data/cifar-style.js";
import type { LabeledDataset } from "../../src/data/dataset.js";

const D = 3 * 32 * 32;

/** Accuracy on `test` of the nearest class mean (Euclidean, pixel space) of `train`. */
function nearestCentroid(train: LabeledDataset, test: LabeledDataset): number {
  const means = new Float64Array(10 * D);
  const counts = new Float64Array(10);
  for (let i = 0; i < train.labels.length; i++) {
    const c = train.labels[i]!;
    counts[c]++;
    for (let j = 0; j < D; j++) means[c * D + j] += train.x.data[i * D + j]!;
  }
  for (let c = 0; c < 10; c++) for (let j = 0; j < D; j++) means[c * D + j] /= counts[c]!;
  let correct = 0;
  for (let i = 0; i < test.labels.length; i++) {
    let best = -1;
    let bestDist = Infinity;
    for (let c = 0; c < 10; c++) {
      let d = 0;
      for (let j = 0; j < D; j++) d += (test.x.data[i * D + j]! - means[c * D + j]!) ** 2;
      if (d < bestDist) [best, bestDist] = [c, d];
    }
    if (best === test.labels[i]) correct++;
  }
  return correct / test.labels.length;
}

describe("cifarStyle (synthetic CIFAR-10 stand-in)", () => {
  const train = cifarStyle({ n: 2000, key: key(1) });
  const test = cifarStyle({ n: 600, key: key(2) });

  it("is deterministic per key, prefix-stable in n, and different for another key", () => {
    const again = cifarStyle({ n: 30, key: key(1) });
    expect(Array.from(again.x.data)).toEqual(Array.from(train.x.data.subarray(0, 30 * D)));
    expect(Array.from(again.labels)).toEqual(Array.from(train.labels.subarray(0, 30)));
    const other = cifarStyle({ n: 30, key: key(3) });
    expect(Array.from(other.x.data.subarray(0, D))).not.toEqual(Array.from(again.x.data.subarray(0, D)));
  });

  it("balances the classes (each within ±1 of n/10 at any n)", () => {
    for (const n of [2000, 1995]) {
      const counts = new Array(10).fill(0);
      for (const c of train.labels.subarray(0, n)) counts[c]++;
      for (const c of counts) expect(Math.abs(c - n / 10)).toBeLessThanOrEqual(1);
    }
    expect(Array.from(train.y.data.subarray(0, 10))).toEqual(Array.from(train.labels.subarray(0, 10)));
    expect(train.classes).toBe(CIFAR_STYLE_CLASSES);
  });

  it("has [n, 3, 32, 32] pixels in [0, 1], 8-bit levels, using the range", () => {
    expect(train.x.shape).toEqual([2000, 3, 32, 32]);
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    const d = train.x.data;
    for (let i = 0; i < d.length; i++) {
      lo = Math.min(lo, d[i]!);
      hi = Math.max(hi, d[i]!);
      sum += d[i]!;
      if (i % 997 === 0) expect(Math.abs(d[i]! * 255 - Math.round(d[i]! * 255))).toBeLessThan(1e-4);
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
    const mean = sum / d.length;
    expect(mean).toBeGreaterThan(0.3);
    expect(mean).toBeLessThan(0.7);
  });

  it("is neither trivial nor noise: nearest-centroid accuracy well above chance (10%) and far below 100%", () => {
    const acc = nearestCentroid(train, test);
    expect(acc).toBeGreaterThan(0.18);
    expect(acc).toBeLessThan(0.5);
  });

  it("gets harder with more clutter, noise and occlusion (the options act)", () => {
    const opts = { clutter: 6, noise: 0.25, occlusion: 0.9 };
    const acc = nearestCentroid(cifarStyle({ n: 2000, key: key(1), ...opts }), cifarStyle({ n: 600, key: key(2), ...opts }));
    expect(acc).toBeLessThan(nearestCentroid(train, test));
  });

  it("rejects bad options", () => {
    expect(() => cifarStyle({ n: -1, key: key(1) })).toThrow(/n must be/);
    expect(() => cifarStyle({ n: 1, key: key(1), occlusion: 2 })).toThrow(/occlusion/);
    expect(() => cifarStyle({ n: 1, key: key(1), clutter: 1.5 })).toThrow(/clutter/);
  });
});
