/** Module tree, initializers, composed layers (finite-difference checked), BatchNorm statistics, attention. */
import { describe, expect, it } from "vitest";
import { Tensor, randn, ones, zeros } from "../../src/tensor/index.js";
import { key, manualSeed } from "../../src/random/keys.js";
import { logSoftmax } from "../../src/tensor/layers.js";
import {
  Module, Sequential, Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, BatchNorm1d, BatchNorm2d, Embedding, ReLU, Tanh, Sigmoid, SELU,
  Softmax, Maxout, LSTMCell, GRUCell, MultiHeadSelfAttention, nllLoss, bitsPerChar, xavierUniform, heNormal, AlphaDropout, Dropout,
} from "../../src/nn/index.js";
import { gradcheck } from "../tensor/gradcheck.js";

const leaf = (k: number, shape: number[], scale = 1) => {
  const t = randn(key(k), shape);
  t.data.forEach((v, i) => (t.data[i] = v * scale));
  t.requiresGrad = true;
  return t;
};

describe("Module", () => {
  const net = () => new Sequential(new Linear(4, 3, { key: key(1) }), new BatchNorm1d(3), new ReLU(), new Dropout(0.5, { key: key(2) }), new Linear(3, 2, { key: key(3), bias: false }));

  it("names parameters and buffers as PyTorch does; train()/eval() reach every module", () => {
    const m = net();
    expect(m.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "1.weight", "1.bias", "4.weight"]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(["1.runningMean", "1.runningVar"]);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    m.eval();
    expect(m.modules().map((x) => x.training)).toEqual([false, false, false, false, false, false]);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    expect(m.toString()).toContain("(3): Dropout(p=0.5)");
  });

  it("loadStateDict copies values, and on any mismatch changes nothing", () => {
    const a = net();
    const b = net();
    b.parameters().forEach((p) => p.data.fill(7));
    a.loadStateDict(b.stateDict());
    expect(a.parameters()[0]!.data.every((v) => v === 7)).toBe(true);
    const c = net();
    const before = c.parameters().map((p) => p.data.slice());
    const sd = { ...b.stateDict(), "4.weight": zeros([3, 2]) };
    expect(() => c.loadStateDict(sd)).toThrow(/"4.weight" has shape \[3,2\], expected \[2,3\]/);
    const { ["0.bias"]: _, ...missing } = b.stateDict();
    expect(() => c.loadStateDict({ ...missing, extra: ones([1]) })).toThrow(/missing "0.bias".*unexpected "extra"/);
    c.parameters().forEach((p, i) => expect(p.data).toEqual(before[i]));
  });

  it("the same seed gives the same initial weights", () => {
    manualSeed(3);
    const a = new Linear(5, 4);
    manualSeed(3);
    const b = new Linear(5, 4);
    expect(a.weight.data).toEqual(b.weight.data);
    expect(new Linear(5, 4).weight.data).not.toEqual(a.weight.data);
  });

  it("a custom module registers children", () => {
    class Block extends Module {
      readonly fc = this.child("fc", new Linear(2, 2, { key: key(5) }));
      forward(x: Tensor): Tensor {
        return this.fc.forward(x).relu();
      }
    }
    const m = new Sequential(new Block(), new Block());
    expect(m.namedParameters().map(([n]) => n)).toEqual(["0.fc.weight", "0.fc.bias", "1.fc.weight", "1.fc.bias"]);
  });
});

describe("initializers", () => {
  it("xavierUniform stays within its bound and fills it; heNormal has variance 2/fanIn", () => {
    const w = xavierUniform(key(6), [200, 300]);
    const a = Math.sqrt(6 / 500);
    expect(Math.max(...w.data.map(Math.abs))).toBeLessThanOrEqual(a);
    expect(Math.max(...w.data.map(Math.abs))).toBeGreaterThan(0.99 * a);
    const h = heNormal(key(7), [100, 1000]);
    let s = 0;
    for (const v of h.data) s += v * v;
    // The sample variance of 1e5 normals has relative sd sqrt(2/1e5) ≈ 0.0045.
    expect(Math.abs(s / h.size / (2 / 1000) - 1)).toBeLessThan(4 * 0.0045);
  });
});

describe("composed layers: finite-difference gradients", () => {
  it("BatchNorm1d and BatchNorm2d (training)", () => {
    const bn = new BatchNorm1d(3);
    bn.weight!.data.set([1.5, -0.5, 2]);
    bn.bias!.data.set([0.1, 0.2, -0.3]);
    gradcheck((x) => bn.forward(x), [leaf(1, [5, 3]), bn.weight!, bn.bias!]);
    const bn2 = new BatchNorm2d(2);
    gradcheck((x) => bn2.forward(x), [leaf(2, [2, 2, 3, 3]), bn2.weight!, bn2.bias!]);
  });

  it("SELU, Maxout, Softmax, nllLoss", () => {
    // SELU has a kink at 0: keep the points more than the step away from it.
    const xs = leaf(3, [20]);
    xs.data.forEach((v, i) => (xs.data[i] = v + (v >= 0 ? 0.05 : -0.05)));
    gradcheck((x) => new SELU().forward(x), [xs]);
    // Maxout: values at least 0.1 apart, so no step changes which piece is largest.
    const xm = new Tensor(Float32Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) * 0.1 - 1.2), [4, 6], true);
    gradcheck((x) => new Maxout(3).forward(x), [xm]);
    gradcheck((x) => new Softmax().forward(x), [leaf(5, [3, 4])]);
    gradcheck((x) => nllLoss(logSoftmax(x), [0, 3, 1]).reshape([1]), [leaf(6, [3, 4])]);
  });

  it("LSTMCell and GRUCell", () => {
    const lc = new LSTMCell(3, 4, { key: key(8) });
    gradcheck((x, h, c) => {
      const r = lc.forward(x, { h, c });
      return r.h.add(r.c.mul(0.5));
    }, [leaf(9, [2, 3]), leaf(10, [2, 4]), leaf(11, [2, 4]), ...lc.parameters()]);
    const gc = new GRUCell(3, 4, { key: key(12) });
    gradcheck((x, h) => gc.forward(x, h), [leaf(13, [2, 3]), leaf(14, [2, 4]), ...gc.parameters()]);
  });

  it("attention block and AlphaDropout with a fixed mask", () => {
    const att = new MultiHeadSelfAttention(4, { numHeads: 2, causal: true, key: key(15) });
    gradcheck((x) => att.forward(x), [leaf(16, [2, 3, 4]), att.query.weight, att.keyProj.weight]);
    const ad = new AlphaDropout(0.3, { key: key(17) });
    gradcheck((x) => {
      ad.stream.reset(key(18));
      return ad.forward(x);
    }, [leaf(19, [30])]);
  });

  it("Embedding gathers rows and sums their gradients", () => {
    const e = new Embedding(5, 3, { key: key(20) });
    const idx = new Tensor(Float32Array.from([1, 4, 1, 0]), [2, 2]);
    const y = e.forward(idx);
    expect(y.shape).toEqual([2, 2, 3]);
    expect(Array.from(y.data.subarray(0, 3))).toEqual(Array.from(e.weight.data.subarray(3, 6)));
    y.sum().backward();
    expect(Array.from(e.weight.grad!.data)).toEqual([1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect(() => e.forward(new Tensor(Float32Array.from([5]), [1]))).toThrow(/out of range/);
  });
});

describe("BatchNorm statistics", () => {
  it("normalizes a batch, updates the running statistics as PyTorch (unbiased variance), uses them in eval", () => {
    const bn = new BatchNorm1d(2, { momentum: 0.1 });
    const x = new Tensor(Float32Array.from([1, 10, 2, 20, 3, 30, 6, 40]), [4, 2]);
    const y = bn.forward(x);
    for (let c = 0; c < 2; c++) {
      const col = [0, 1, 2, 3].map((r) => y.data[r * 2 + c]!);
      expect(col.reduce((a, b) => a + b) / 4).toBeCloseTo(0, 5);
      expect(col.reduce((a, b) => a + b * b, 0) / 4).toBeCloseTo(1, 3);
    }
    // Column 0: mean 3, unbiased variance 14/3.
    expect(bn.runningMean.data[0]).toBeCloseTo(0.3, 6);
    expect(bn.runningVar.data[0]).toBeCloseTo(0.9 + 0.1 * (14 / 3), 5);
    bn.eval();
    const z = bn.forward(new Tensor(Float32Array.from([0.3, 2.5]), [1, 2]));
    expect(z.data[0]).toBeCloseTo(0, 5);
    expect(() => bn.forward(zeros([1, 3]))).toThrow(/2 features/);
    expect(() => bn.train().forward(zeros([1, 2]))).toThrow(/more than one value/);
  });
});

describe("shapes and simple layers", () => {
  it("conv, pools, flatten, activations", () => {
    const x = randn(key(21), [2, 3, 8, 8]);
    const net = new Sequential(new Conv2d(3, 4, 3, { padding: 1, key: key(22) }), new ReLU(), new MaxPool2d(2), new AvgPool2d(2), new Flatten(), new Linear(16, 5, { key: key(23) }), new Tanh(), new Sigmoid());
    const y = net.forward(x);
    expect(y.shape).toEqual([2, 5]);
    expect(y.data.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it("attention: causal outputs ignore the future; dropout on weights recorded; eval is deterministic", () => {
    const att = new MultiHeadSelfAttention(8, { numHeads: 2, causal: true, attentionDropout: 0.5, residualDropout: 0.1, key: key(24) });
    att.attentionDropout.recordMasks = true;
    const x = randn(key(25), [2, 5, 8]);
    att.eval();
    const a = att.forward(x);
    const x2 = new Tensor(x.data.slice(), x.shape);
    for (let b = 0; b < 2; b++) for (let j = 0; j < 8; j++) x2.data[(b * 5 + 4) * 8 + j] = 99;
    const a2 = att.forward(x2);
    for (let b = 0; b < 2; b++) for (let t = 0; t < 4; t++) for (let j = 0; j < 8; j++) {
      expect(a2.data[(b * 5 + t) * 8 + j]).toBeCloseTo(a.data[(b * 5 + t) * 8 + j]!, 5);
    }
    const w = att.lastAttention!;
    expect(w.shape).toEqual([2, 2, 5, 5]);
    expect(w.data[1]).toBe(0);
    att.train();
    att.forward(x);
    expect(att.attentionDropout.lastMask!.shape).toEqual([2, 2, 5, 5]);
    expect(() => new MultiHeadSelfAttention(6, { numHeads: 4 })).toThrow(/does not divide/);
  });

  it("bitsPerChar converts nats", () => {
    expect(bitsPerChar(Math.LN2 * 1.5)).toBeCloseTo(1.5, 12);
  });

  it("Linear checks its arguments and input", () => {
    expect(() => new Linear(0, 3)).toThrow(/inFeatures/);
    expect(() => new Linear(3, 2, { key: key(1) }).forward(zeros([2, 4]))).toThrow(/do not match/);
  });
});
