import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as T from "../../src/tensor/index.js";
import { Tensor, tensor } from "../../src/tensor/index.js";
import { key, manualSeed } from "../../src/random/keys.js";
import { bernoulli } from "../../src/random/index.js";

const nested = (t: Tensor) => t.toArray() as number[][][][];
/** Element-wise identity of two arrays (cheaper than a deep equality on 1e5 elements). */
const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v, i) => Object.is(v, b[i]));

/** Direct convolution in float64: out[n][o][i][j] = b[o] + Σ x[n][c][i·s − p + u][j·s − p + v] · w[o][c][u][v]. */
function convOracle(x: Tensor, w: Tensor, b: Tensor | null, s: number, p: number): number[] {
  const [N, C, H, W] = x.shape as number[];
  const [O, , K] = w.shape as number[];
  const X = nested(x);
  const Wt = nested(w);
  const oh = Math.floor((H! + 2 * p - K!) / s) + 1;
  const ow = Math.floor((W! + 2 * p - K!) / s) + 1;
  const out: number[] = [];
  for (let n = 0; n < N!; n++) for (let o = 0; o < O!; o++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let acc = b ? b.data[o]! : 0;
    for (let c = 0; c < C!; c++) for (let u = 0; u < K!; u++) for (let v = 0; v < K!; v++) {
      const ii = i * s - p + u;
      const jj = j * s - p + v;
      if (ii >= 0 && ii < H! && jj >= 0 && jj < W!) acc += X[n]![c]![ii]![jj]! * Wt[o]![c]![u]![v]!;
    }
    out.push(acc);
  }
  return out;
}

describe("conv2d and pooling forward", () => {
  for (const [s, p] of [[1, 0], [1, 1], [2, 1], [3, 2]] as const) {
    it(`conv2d matches a direct convolution (stride ${s}, padding ${p})`, () => {
      const x = T.randn(key(1), [2, 3, 7, 6]);
      const w = T.randn(key(2), [4, 3, 3, 3]);
      const b = T.randn(key(3), [4]);
      const y = T.conv2d(x, w, b, { stride: s, padding: p });
      const expected = convOracle(x, w, b, s, p);
      expect(y.size).toBe(expected.length);
      y.data.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-4));
    });
  }
  it("maxPool2d and avgPool2d on a hand example", () => {
    const x = T.arange(16).reshape([1, 1, 4, 4]);
    expect(T.maxPool2d(x, 2).toArray()).toEqual([[[[5, 7], [13, 15]]]]);
    expect(T.avgPool2d(x, 2).toArray()).toEqual([[[[2.5, 4.5], [10.5, 12.5]]]]);
    // Padding 1, kernel 3, stride 2: windows cover rows/columns {0,1} and {1,2,3}; padding never wins.
    expect(T.maxPool2d(x.neg(), 3, { stride: 2, padding: 1 }).toArray()).toEqual([[[[-0, -1], [-4, -5]]]]);
    expect(T.avgPool2d(x, 3, { stride: 2, padding: 1 }).data[0]).toBeCloseTo((0 + 1 + 4 + 5) / 9, 6);
  });
  it("rejects bad geometry", () => {
    expect(() => T.conv2d(T.zeros([1, 1, 2, 2]), T.zeros([1, 1, 3, 3]))).toThrow("conv2d: kernel 3 does not fit input [1,1,2,2] with padding 0");
    expect(() => T.maxPool2d(T.zeros([1, 1, 4, 4]), 2, { padding: 2 })).toThrow(/padding 2 exceeds half the kernel 2/);
    expect(() => T.conv2d(T.zeros([1, 1, 4, 4]), T.zeros([1, 1, 3, 3]), null, { stride: 0 })).toThrow(/stride must be an integer/);
  });
});

describe("PyTorch golden values (test/tensor/fixtures/make_golden.py, torch 1.13)", () => {
  interface Case {
    name: string;
    inputs: { shape: number[]; data: number[] }[];
    output: { shape: number[]; data: number[] };
    upstream: number[];
    grads: number[][];
    labels?: number[];
    probs?: number[];
  }
  const golden = JSON.parse(readFileSync(new URL("./fixtures/golden.json", import.meta.url), "utf8")) as { cases: Case[] };
  const ops: Record<string, (c: Case, ...xs: Tensor[]) => Tensor> = {
    conv2d: (_, x, w, b) => T.conv2d(x!, w!, b, { stride: 2, padding: 1 }),
    conv2d_plain: (_, x, w) => T.conv2d(x!, w!),
    maxPool2d: (_, x) => T.maxPool2d(x!, 3, { stride: 2, padding: 1 }),
    avgPool2d: (_, x) => T.avgPool2d(x!, 2),
    avgPool2d_padded: (_, x) => T.avgPool2d(x!, 3, { stride: 2, padding: 1 }),
    matmul_batched: (_, a, b) => T.matmul(a!, b!),
    var: (_, x) => T.variance(x!, 1),
    logsumexp: (_, x) => T.logsumexp(x!.mul(30), 1),
    logSoftmax: (_, x) => T.logSoftmax(x!, 0),
    crossEntropy_labels: (c, x) => T.crossEntropy(x!, c.labels!),
    crossEntropy_probs: (c, x) => T.crossEntropy(x!, tensor(c.probs!, { shape: [4, 5] })),
    linear_tanh: (_, x, w, b) => T.linear(x!, w!, b, "tanh"),
  };
  // Float32 results with a different summation order than PyTorch's: |ours − torch| ≤ 1e-5 + 1e-4·|torch|.
  const near = (got: Float32Array, want: number[], what: string) => {
    expect(got.length, what).toBe(want.length);
    want.forEach((v, i) => {
      if (Math.abs(got[i]! - v) > 1e-5 + 1e-4 * Math.abs(v)) expect.fail(`${what}[${i}]: ${got[i]} vs torch ${v}`);
    });
  };
  for (const c of golden.cases) {
    it(`${c.name}: forward and gradients`, () => {
      const xs = c.inputs.map((i) => tensor(i.data, { shape: i.shape, requiresGrad: true }));
      const out = ops[c.name]!(c, ...xs);
      expect(out.shape).toEqual(c.output.shape);
      near(out.data, c.output.data, "output");
      out.backward(tensor(c.upstream, { shape: out.shape }));
      xs.forEach((x, k) => near(x.grad!.data, c.grads[k]!, `grad ${k}`));
    });
  }
  it("covers every case of the fixture", () => {
    expect(golden.cases.map((c) => c.name).sort()).toEqual(Object.keys(ops).sort());
  });
});

describe("dropout", () => {
  const n = 200_000;
  const x = T.randn(key(5), [n]);

  it("keeps a fraction 1 − p within 4 sigma (false failure < 6.4e-5) and scales kept units exactly", () => {
    for (const p of [0.2, 0.5, 0.9]) {
      const y = T.dropout(x, p, { key: key(6), training: true });
      const scale = Math.fround(1 / (1 - p));
      let kept = 0;
      let wrong = 0;
      for (let i = 0; i < n; i++) {
        if (y.data[i] !== 0) {
          kept++;
          if (y.data[i] !== Math.fround(x.data[i]! * scale)) wrong++;
        }
      }
      expect(wrong).toBe(0);
      const q = 1 - p;
      expect(Math.abs(kept / n - q)).toBeLessThan(4 * Math.sqrt((q * (1 - q)) / n));
    }
  });

  it("reproduces its mask from the key with random.bernoulli(key, shape, 1 − p)", () => {
    const k = key(7);
    const y = T.dropout(T.onesLike(x), 0.3, { key: k, training: true });
    const m = bernoulli(k, x.shape, 0.7);
    expect(same(y.data.map((v) => (v === 0 ? 0 : 1)), m.data)).toBe(true);
  });

  it("is the identity in evaluation and for p = 0; p = 1 gives zeros without NaN", () => {
    expect(T.dropout(x, 0.5, { training: false })).toBe(x);
    expect(T.dropout(x, 0, { key: key(1), training: true })).toBe(x);
    const big = tensor([1e30, -Infinity, 3], { requiresGrad: true });
    const z = T.dropout(big, 1, { key: key(1), training: true });
    expect(Array.from(z.data)).toEqual([0, 0, 0]);
    z.sum().backward();
    expect(Array.from(big.grad!.data)).toEqual([0, 0, 0]);
  });

  it("classic mode: unscaled in training, times (1 − p) in evaluation", () => {
    const y = T.dropout(x, 0.25, { key: key(8), training: true, mode: "classic" });
    for (let i = 0; i < 1000; i++) expect(y.data[i] === 0 || y.data[i] === x.data[i]).toBe(true);
    const e = T.dropout(tensor([4, 8]), 0.25, { training: false, mode: "classic" });
    expect(e.toArray()).toEqual([3, 6]);
  });

  it("backward multiplies by the same mask: zero gradient on dropped units", () => {
    const v = T.randn(key(9), [1000], { requiresGrad: true });
    const y = T.dropout(v, 0.4, { key: key(10), training: true });
    y.sum().backward();
    const scale = Math.fround(1 / 0.6);
    for (let i = 0; i < 1000; i++) expect(v.grad!.data[i]).toBe(y.data[i] === 0 && v.data[i] !== 0 ? 0 : scale);
  });

  it("draws from the default stream without a key, reproducibly after manualSeed", () => {
    manualSeed(11);
    const a = T.dropout(x, 0.5, { training: true });
    const b = T.dropout(x, 0.5, { training: true });
    manualSeed(11);
    expect(same(T.dropout(x, 0.5, { training: true }).data, a.data)).toBe(true);
    expect(same(a.data, b.data)).toBe(false);
  });

  it("validates its arguments", () => {
    expect(() => T.dropout(x, 1.5, { training: true })).toThrow("dropout: p must be in [0, 1], got 1.5");
    expect(() => T.dropout(x, 0.5, {} as T.DropoutOptions)).toThrow("dropout: options.training (boolean) is required");
  });
});
