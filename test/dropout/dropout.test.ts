/**
 * The dropout family: statistics with 4σ binomial bounds over ≥ 1e5 units (false-failure probability ≈ 6e-5
 * per check), exact scaling, evaluation behaviour, gradients through the mask, reproducible key streams.
 */
import { describe, expect, it } from "vitest";
import { Tensor, ones, randn, zeros } from "../../src/tensor/index.js";
import { key, manualSeed } from "../../src/random/keys.js";
import {
  Dropout, Dropout1d, Dropout2d, GaussianDropout, AlphaDropout, DropBlock2d, DropConnect, StochasticDepth,
} from "../../src/dropout/base.js";
import { Linear, Sequential, SELU_ALPHA, SELU_LAMBDA } from "../../src/nn/index.js";
import { linear } from "../../src/tensor/layers.js";

const N = 200_000;

/** |observed − expected| ≤ 4σ for a binomial proportion over n trials. */
function within4Sigma(observed: number, p: number, n: number): void {
  expect(Math.abs(observed - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / n));
}

function fractionZero(d: ArrayLike<number>): number {
  let z = 0;
  for (let i = 0; i < d.length; i++) if (d[i] === 0) z++;
  return z / d.length;
}

describe("Dropout", () => {
  for (const p of [0.1, 0.5, 0.8]) {
    it(`p=${p}: dropped fraction within 4σ, survivors scaled by exactly fround(1/(1−p)), identity in eval`, () => {
      const d = new Dropout(p, { key: key(1) });
      const x = ones([N]);
      const y = d.forward(x);
      within4Sigma(fractionZero(y.data), p, N);
      const s = Math.fround(1 / (1 - p));
      expect(y.data.every((v) => v === 0 || v === s)).toBe(true);
      d.eval();
      expect(d.forward(x)).toBe(x);
    });
  }

  it("inverted and classic have the same expectation as their evaluation outputs", () => {
    const p = 0.4;
    const x = ones([N]);
    for (const mode of ["inverted", "classic"] as const) {
      const d = new Dropout(p, { mode, key: key(7) });
      const y = d.forward(x);
      let s = 0;
      for (const v of y.data) s += v;
      const evalValue = d.eval().forward(x).data[0]!;
      expect(evalValue).toBeCloseTo(mode === "inverted" ? 1 : 1 - p, 6);
      // The train mean is scale·Bernoulli(1−p): its sd is scale·sqrt(p(1−p)/N).
      const scale = mode === "inverted" ? 1 / (1 - p) : 1;
      expect(Math.abs(s / N - evalValue)).toBeLessThanOrEqual(4 * scale * Math.sqrt((p * (1 - p)) / N));
    }
  });

  it("dropped units get zero gradient, kept units the scale", () => {
    const d = new Dropout(0.5, { key: key(3), recordMasks: true });
    const x = randn(key(4), [1000], { requiresGrad: true });
    d.forward(x).sum().backward();
    const m = d.lastMask!.data;
    expect(Array.from(x.grad!.data)).toEqual(Array.from(m, (v) => (v ? 2 : 0)));
  });

  it("recorded mask is the one applied; masks differ per step and repeat for the same key", () => {
    const x = ones([5000]);
    const a = new Dropout(0.3, { key: key(9), recordMasks: true });
    const y1 = a.forward(x);
    const m1 = a.lastMask!.data.slice();
    expect(Array.from(y1.data, (v) => (v !== 0 ? 1 : 0))).toEqual(Array.from(m1));
    const m2 = (a.forward(x), a.lastMask!.data.slice());
    expect(m2).not.toEqual(m1);
    const b = new Dropout(0.3, { key: key(9), recordMasks: true });
    b.forward(x);
    expect(b.lastMask!.data).toEqual(m1);
    manualSeed(5);
    const c1 = new Dropout(0.3, { recordMasks: true });
    manualSeed(5);
    const c2 = new Dropout(0.3, { recordMasks: true });
    c1.forward(x);
    c2.forward(x);
    expect(c1.lastMask!.data).toEqual(c2.lastMask!.data);
  });

  it("classic mode: unscaled in training, times (1 − p) in eval", () => {
    const d = new Dropout(0.25, { mode: "classic", key: key(2) });
    const y = d.forward(ones([1000]));
    expect(y.data.every((v) => v === 0 || v === 1)).toBe(true);
    expect(d.eval().forward(ones([3])).data).toEqual(new Float32Array([0.75, 0.75, 0.75]));
  });

  it("the training flag comes from the module tree", () => {
    const d = new Dropout(0.5, { key: key(1) });
    const net = new Sequential(new Linear(4, 4, { key: key(2) }), d);
    net.eval();
    expect(d.training).toBe(false);
    const x = ones([2, 4]);
    expect(net.forward(x).data).toEqual(net.forward(x).data);
    net.train();
    expect(d.training).toBe(true);
  });

  it("rejects bad rates and modes", () => {
    expect(() => new Dropout(1.5)).toThrow(/rate must be in/);
    expect(() => new Dropout(-0.1)).toThrow(/rate must be in/);
    expect(() => new Dropout(0.5, { mode: "weird" as never })).toThrow(/unknown mode/);
    expect(() => new GaussianDropout(1)).toThrow(/rate must be in/);
  });

  it("noiseShape shares mask values along size-1 axes", () => {
    const d = new Dropout(0.5, { key: key(3), noiseShape: [null, 1], recordMasks: true });
    const y = d.forward(ones([1000, 6]));
    expect(d.lastMask!.shape).toEqual([1000, 1]);
    let shared = true;
    for (let r = 0; r < 1000; r++) for (let c = 1; c < 6; c++) shared &&= y.data[r * 6 + c] === y.data[r * 6];
    expect(shared).toBe(true);
    expect(() => d.forward(ones([4, 6, 2]))).toThrow(/noiseShape/);
  });
});

describe("channel dropout", () => {
  it("Dropout2d drops whole feature maps at rate p", () => {
    const [n, c, h, w] = [500, 200, 2, 3];
    const d = new Dropout2d(0.3, { key: key(11) });
    const y = d.forward(ones([n, c, h, w]));
    let dropped = 0;
    let whole = true;
    for (let m = 0; m < n * c; m++) {
      const v = y.data.subarray(m * h * w, (m + 1) * h * w);
      whole &&= v.every((u) => u === v[0]);
      if (v[0] === 0) dropped++;
    }
    expect(whole).toBe(true);
    within4Sigma(dropped / (n * c), 0.3, n * c);
    expect(() => d.forward(ones([2, 3]))).toThrow(/Dropout2d/);
  });

  it("Dropout1d drops whole channels of [N, C, L]", () => {
    const d = new Dropout1d(0.5, { key: key(12) });
    const y = d.forward(ones([1000, 100, 4]));
    let dropped = 0;
    let whole = true;
    for (let m = 0; m < 1e5; m++) {
      const v = y.data.subarray(m * 4, m * 4 + 4);
      whole &&= v.every((u) => u === v[0]);
      if (v[0] === 0) dropped++;
    }
    expect(whole).toBe(true);
    within4Sigma(dropped / 1e5, 0.5, 1e5);
  });

  it("StochasticDepth: row mode per sample, batch mode all or nothing", () => {
    const row = new StochasticDepth(0.2, { key: key(13) });
    const y = row.forward(ones([N, 3]));
    let dropped = 0;
    let ok = true;
    for (let i = 0; i < N; i++) {
      ok &&= y.data[i * 3 + 1] === y.data[i * 3] && y.data[i * 3 + 2] === y.data[i * 3];
      if (y.data[i * 3] === 0) dropped++;
      else ok &&= y.data[i * 3] === Math.fround(1 / 0.8);
    }
    expect(ok).toBe(true);
    within4Sigma(dropped / N, 0.2, N);
    const batch = new StochasticDepth(0.5, { mode: "batch", key: key(14) });
    let zeroBatches = 0;
    for (let t = 0; t < 200; t++) {
      const v = batch.forward(ones([8, 2])).data;
      expect(v.every((u) => u === v[0])).toBe(true);
      if (v[0] === 0) zeroBatches++;
    }
    within4Sigma(zeroBatches / 200, 0.5, 200);
    expect(batch.eval().forward(ones([2, 2])).data).toEqual(ones([2, 2]).data);
  });
});

describe("Gaussian and Alpha dropout", () => {
  function moments(d: ArrayLike<number>): [number, number] {
    let m = 0;
    for (let i = 0; i < d.length; i++) m += d[i]!;
    m /= d.length;
    let v = 0;
    for (let i = 0; i < d.length; i++) v += (d[i]! - m) ** 2;
    return [m, v / d.length];
  }

  it("GaussianDropout multiplies by N(1, p/(1−p))", () => {
    const p = 0.3;
    const y = new GaussianDropout(p, { key: key(21) }).forward(ones([N]));
    const [m, v] = moments(y.data);
    const s2 = p / (1 - p);
    expect(Math.abs(m - 1)).toBeLessThan(4 * Math.sqrt(s2 / N));
    // Var of the sample variance of a normal: 2σ⁴/N.
    expect(Math.abs(v - s2)).toBeLessThan(4 * Math.sqrt((2 * s2 * s2) / N));
  });

  it("AlphaDropout keeps mean 0 and variance 1 of standard-normal inputs; dropped units go to a·(−λα) + b < 0", () => {
    const p = 0.2;
    const d = new AlphaDropout(p, { key: key(22), recordMasks: true });
    const x = randn(key(23), [N]);
    const y = d.forward(x);
    const [m, v] = moments(y.data);
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.02);
    const ap = -SELU_LAMBDA * SELU_ALPHA;
    const a = 1 / Math.sqrt((1 - p) * (1 + p * ap * ap));
    const b = -a * ap * p;
    const droppedValue = a * ap + b;
    expect(droppedValue).toBeLessThan(-1);
    const mask = d.lastMask!.data;
    within4Sigma(fractionZero(mask), p, N);
    for (let i = 0; i < 1000; i++) {
      if (mask[i] === 0) expect(y.data[i]).toBeCloseTo(droppedValue, 5);
      else expect(y.data[i]).toBeCloseTo(a * x.data[i]! + b, 5);
    }
    expect(d.eval().forward(x)).toBe(x);
  });
});

describe("DropBlock2d", () => {
  it("drops unions of b×b blocks, at about rate p, and rescales to keep the sum", () => {
    const [n, c, h, w, b, p] = [8, 4, 32, 32, 5, 0.1];
    const d = new DropBlock2d(p, b, { key: key(31), recordMasks: true });
    const x = ones([n, c, h, w]);
    const y = d.forward(x);
    const keep = d.lastMask!.data;
    let kept = 0;
    for (let m = 0; m < n * c; m++) {
      const at = (i: number, j: number) => keep[m * h * w + i * w + j]!;
      for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
        if (at(i, j) === 1) {
          kept++;
          continue;
        }
        // Some fully dropped b×b window that fits contains (i, j).
        let inBlock = false;
        for (let i0 = Math.max(0, i - b + 1); i0 <= Math.min(i, h - b) && !inBlock; i0++) {
          for (let j0 = Math.max(0, j - b + 1); j0 <= Math.min(j, w - b) && !inBlock; j0++) {
            let all = true;
            for (let di = 0; di < b && all; di++) for (let dj = 0; dj < b && all; dj++) if (at(i0 + di, j0 + dj) !== 0) all = false;
            inBlock = all;
          }
        }
        expect(inBlock, `dropped unit (${i}, ${j}) of map ${m} is not inside a dropped ${b}×${b} block`).toBe(true);
      }
    }
    let s = 0;
    for (const v of y.data) s += v;
    expect(s).toBeCloseTo(x.size, 0);
    const scaled = Array.from(keep, (k, i) => (k ? y.data[i]! : x.size / kept));
    expect(Math.max(...scaled.map((v) => Math.abs(v - x.size / kept)))).toBeLessThan(1e-4);
    // Expected dropped fraction: unit (i, j) survives each of the c(i, j) corners covering it with prob 1 − γ.
    const gh = h - b + 1;
    const gamma = (p * h * w) / (b * b * gh * gh);
    let expected = 0;
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
      const ci = Math.min(i, gh - 1) - Math.max(0, i - b + 1) + 1;
      const cj = Math.min(j, gh - 1) - Math.max(0, j - b + 1) + 1;
      expected += 1 - (1 - gamma) ** (ci * cj);
    }
    expected /= h * w;
    const blocks = gamma * n * c * gh * gh;
    const sigma = (Math.sqrt(blocks) * b * b) / keep.length;
    expect(Math.abs(1 - kept / keep.length - expected)).toBeLessThan(4 * sigma);
    expect(d.eval().forward(x)).toBe(x);
  });
});

describe("DropConnect", () => {
  it("masks the weights, scales by 1/(1−p), passes no gradient to dropped weights, plain Linear in eval", () => {
    const lin = new Linear(300, 400, { key: key(41) });
    const dc = new DropConnect(lin, 0.4, { key: key(42), recordMasks: true });
    const x = randn(key(43), [3, 300]);
    const y = dc.forward(x);
    const m = dc.lastMask!;
    within4Sigma(fractionZero(m.data), 0.4, m.size);
    const s = Math.fround(1 / 0.6);
    const w = new Tensor(lin.weight.data.map((v, i) => v * m.data[i]! * s), lin.weight.shape);
    const ref = linear(x, w, lin.bias);
    let worst = 0;
    for (let i = 0; i < y.size; i++) worst = Math.max(worst, Math.abs(y.data[i]! - ref.data[i]!));
    expect(worst).toBeLessThan(1e-4);
    y.sum().backward();
    let leaked = 0;
    for (let i = 0; i < m.size; i++) if (m.data[i] === 0 && lin.weight.grad!.data[i] !== 0) leaked++;
    expect(leaked).toBe(0);
    expect(dc.eval().forward(x).data).toEqual(lin.forward(x).data);
    expect(dc.namedParameters().map(([n]) => n)).toEqual(["layer.weight", "layer.bias"]);
  });
});

describe("eval mode is deterministic for every variant", () => {
  it("no variant draws in eval", () => {
    const x = randn(key(50), [2, 3, 8, 8]);
    for (const d of [new Dropout(0.5), new Dropout2d(0.5), new GaussianDropout(0.5), new AlphaDropout(0.5), new DropBlock2d(0.5, 3), new StochasticDepth(0.5)]) {
      d.eval();
      const before = d.stream.save();
      expect(d.forward(x).data).toEqual(x.data);
      expect(d.stream.save()).toEqual(before);
    }
    expect(zeros([1]).data[0]).toBe(0);
  });
});

describe("seeded golden masks", () => {
  // Recorded from this implementation: they pin the key-stream layout (pass n of a module uses foldIn(key, n);
  // the recurrent masks foldIn by layer, kind and step), so a change that would alter saved experiments fails here.
  it("Dropout(0.5) with key 42: the first two masks over 32 units", () => {
    const m = new Dropout(0.5, { key: key(42), recordMasks: true });
    const bits = () => (m.forward(ones([32])), Array.from(m.lastMask!.data).join(""));
    expect(bits()).toBe("00111010101111010111000101111101");
    expect(bits()).toBe("01100011011111100011011010011000");
  });

  it("the recorded mask equals random.bernoulli over the pass key foldIn(key, n)", async () => {
    const { random, foldIn } = await import("../../src/index.js");
    const m = new Dropout(0.3, { key: key(43), recordMasks: true });
    m.forward(ones([1000]));
    m.forward(ones([1000]));
    expect(m.lastMask!.data).toEqual(random.bernoulli(foldIn(key(43), 1), [1000], 0.7).data);
  });
});
