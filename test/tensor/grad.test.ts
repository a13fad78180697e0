import { describe, expect, it } from "vitest";
import * as T from "../../src/tensor/index.js";
import { Tensor } from "../../src/tensor/index.js";
import { foldIn, key } from "../../src/random/keys.js";
import { permutation } from "../../src/random/index.js";
import { gradcheck } from "./gradcheck.js";

let counter = 0;
/** A leaf with normal values (scaled), kept at least `gap` away from the given points (kinks). */
function p(shape: number[], { scale = 1, shift = 0, gap = 0, kinks = [0] }: { scale?: number; shift?: number; gap?: number; kinks?: number[] } = {}): Tensor {
  const t = T.randn(foldIn(key(99), counter++), shape);
  for (let i = 0; i < t.size; i++) {
    let v = t.data[i]! * scale + shift;
    for (const k of kinks) if (Math.abs(v - k) < gap) v = k + (v >= k ? gap : -gap);
    t.data[i] = v;
  }
  t.requiresGrad = true;
  return t;
}
/** A leaf of distinct values 0.05 apart in random order, so maxima never tie within a finite-difference step. */
function distinct(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = permutation(foldIn(key(98), counter++), n);
  return new Tensor(Float32Array.from(perm, (v) => (v - n / 2) * 0.05), shape, true);
}
const pos = (shape: number[]) => p(shape, { scale: 0.5, shift: 2 }); // safely positive

describe("elementwise gradients", () => {
  it("add/sub/mul/div, same shape", () => {
    gradcheck(T.add, [p([3, 4]), p([3, 4])]);
    gradcheck(T.sub, [p([3, 4]), p([3, 4])]);
    gradcheck(T.mul, [p([3, 4]), p([3, 4])]);
    gradcheck(T.div, [p([3, 4]), pos([3, 4])]);
  });
  it("broadcasting: bias row, column, both sides, leading dims, scalars", () => {
    gradcheck(T.add, [p([4, 3]), p([3])]);
    gradcheck(T.mul, [p([2, 1]), p([1, 3])]);
    gradcheck(T.sub, [p([4, 1, 3]), p([2, 1])]);
    gradcheck(T.div, [p([2, 3, 4]), pos([3, 1])]);
    gradcheck(T.mul, [p([2, 3]), p([])]);
    gradcheck((a) => T.div(2, a), [pos([5])]);
    gradcheck((a) => T.sub(a, 1.5), [p([5])]);
  });
  it("pow with a number and a tensor exponent", () => {
    gradcheck((a) => T.pow(a, 2), [p([6])]);
    gradcheck((a) => T.pow(a, 3), [p([6])]);
    gradcheck((a) => T.pow(a, 0.5), [pos([6])]);
    gradcheck(T.pow, [pos([2, 3]), p([3], { scale: 0.5 })]);
  });
  it("maximum and minimum (no ties)", () => {
    const a = p([3, 4]);
    const b = p([3, 4]);
    for (let i = 0; i < a.size; i++) if (Math.abs(a.data[i]! - b.data[i]!) < 0.05) b.data[i] = a.data[i]! + 0.1;
    gradcheck(T.maximum, [a, b]);
    gradcheck(T.minimum, [a, b]);
    gradcheck((x) => T.maximum(x, 0.25), [p([8], { gap: 0.05, kinks: [0.25] })]);
  });
  it("unary ops", () => {
    gradcheck(T.neg, [p([5])]);
    gradcheck(T.exp, [p([5])]);
    gradcheck(T.log, [pos([5])]);
    gradcheck(T.sqrt, [pos([5])]);
    gradcheck(T.tanh, [p([5])]);
    gradcheck(T.sigmoid, [p([5], { scale: 2 })]);
    gradcheck(T.relu, [p([10], { gap: 0.05 })]);
    gradcheck(T.abs, [p([10], { gap: 0.05 })]);
    gradcheck((x) => T.clamp(x, -0.5, 0.7), [p([12], { gap: 0.05, kinks: [-0.5, 0.7] })]);
    gradcheck((x) => T.clamp(x, null, 0), [p([12], { gap: 0.05 })]);
  });
  it("where with broadcasting", () => {
    const cond = new Tensor(Float32Array.from([1, 0, 1]), [3]);
    gradcheck((a, b) => T.where(cond, a, b), [p([2, 3]), p([2, 1])]);
    const full = new Tensor(Float32Array.from([0, 1, 1, 0, 1, 0]), [2, 3]);
    gradcheck((a, b) => T.where(full, a, b), [p([2, 3]), p([2, 3])]);
  });
});

describe("reduction gradients", () => {
  it("sum and mean over all, one, several and negative axes, with keepDim", () => {
    gradcheck((x) => T.sum(x), [p([2, 3, 4])]);
    gradcheck((x) => T.sum(x, 1), [p([2, 3, 4])]);
    gradcheck((x) => T.sum(x, [0, 2], true), [p([2, 3, 4])]);
    gradcheck((x) => T.mean(x, -1), [p([2, 3, 4])]);
    gradcheck((x) => T.mean(x, [0, 1]), [p([2, 3, 4])]);
  });
  it("max and min (distinct values)", () => {
    gradcheck((x) => T.max(x, 1), [distinct([3, 5, 2])]);
    gradcheck((x) => T.min(x, [0, 2], true), [distinct([3, 5, 2])]);
    gradcheck((x) => T.max(x), [distinct([4, 4])]);
  });
  it("logsumexp, including large logits", () => {
    gradcheck((x) => T.logsumexp(x, 1), [p([3, 5])]);
    gradcheck((x) => T.logsumexp(x, [0, 1], true), [p([3, 5])]);
    gradcheck((x) => T.logsumexp(x, -1), [p([2, 4], { shift: 100 })]);
  });
  it("variance (unbiased and population)", () => {
    gradcheck((x) => T.variance(x, 1), [p([3, 6])]);
    gradcheck((x) => T.variance(x, undefined, false, 0), [p([3, 4])]);
  });
});

describe("matmul gradients", () => {
  it("2-D", () => gradcheck(T.matmul, [p([3, 4]), p([4, 5])]));
  it("batched 3-D, equal batches", () => gradcheck(T.matmul, [p([2, 3, 4]), p([2, 4, 2])]));
  it("batched with a broadcast batch dimension", () => {
    gradcheck(T.matmul, [p([1, 3, 4]), p([3, 4, 2])]);
    gradcheck(T.matmul, [p([3, 4]), p([2, 4, 2])]);
    gradcheck(T.matmul, [p([2, 3, 4]), p([4, 2])]);
  });
  it("1-D cases: dot, matrix·vector, vector·matrix, batched·vector", () => {
    gradcheck(T.matmul, [p([4]), p([4])]);
    gradcheck(T.matmul, [p([3, 4]), p([4])]);
    gradcheck(T.matmul, [p([4]), p([4, 3])]);
    gradcheck(T.matmul, [p([2, 3, 4]), p([4])]);
  });
});

describe("shape op gradients", () => {
  it("reshape, flatten, squeeze, unsqueeze, expand", () => {
    gradcheck((x) => T.reshape(x, [3, -1]).mul(T.arange(4)), [p([2, 6])]);
    gradcheck((x) => T.flatten(x, 1), [p([2, 3, 2])]);
    gradcheck((x) => T.unsqueeze(T.squeeze(x, 1), 0), [p([3, 1, 2])]);
    gradcheck((x) => T.expand(x, [4, 2, 3]), [p([2, 1])]);
  });
  it("transpose and permute", () => {
    gradcheck((x) => T.transpose(x, 0, 1), [p([3, 4])]);
    gradcheck((x) => T.permute(x, [2, 0, 1]), [p([2, 3, 4])]);
  });
  it("slice with steps and negative bounds", () => {
    gradcheck((x) => T.slice(x, [null, [1, -1, 2]]), [p([3, 7])]);
    gradcheck((x) => T.slice(x, [[-2], null, [0, 3, 2]]), [p([4, 2, 5])]);
  });
  it("chunk (pieces used differently)", () => {
    gradcheck((x) => {
      const [a, b, c] = T.chunk(x, 3, 1);
      return a!.sigmoid().mul(b!.tanh()).add(c!);
    }, [p([2, 6])]);
  });
  it("concat and stack", () => {
    gradcheck((a, b) => T.concat([a, b], 1), [p([2, 3]), p([2, 2])]);
    gradcheck((a, b) => T.stack([a, b], 1), [p([2, 3]), p([2, 3])]);
  });
  it("gather and indexSelect (repeated indices accumulate)", () => {
    const idx = new Tensor(Float32Array.from([0, 2, 2, 1, 0, 0]), [2, 3]);
    gradcheck((x) => T.gather(x, 1, idx), [p([2, 4])]);
    gradcheck((x) => T.indexSelect(x, 0, [2, 0, 2]), [p([3, 4])]);
    gradcheck((x) => T.indexSelect(x, 1, [1, 1]), [p([2, 3, 2])]);
  });
});

describe("layer gradients", () => {
  for (const act of ["none", "relu", "tanh", "sigmoid"] as const) {
    it(`linear with ${act}`, () => {
      // Small x·wᵀ and |b| ≥ 1 keep every pre-activation clear of relu's kink; b's signs test both sides.
      gradcheck((x, w, b) => T.linear(x, w, b, act), [p([4, 3], { scale: 0.3 }), p([5, 3], { scale: 0.3 }), p([5], { gap: 1 })]);
    });
  }
  it("linear without bias on 3-D input", () => gradcheck((x, w) => T.linear(x, w), [p([2, 3, 4]), p([2, 4])]));
  it("conv2d with stride, padding and bias", () => {
    gradcheck((x, w, b) => T.conv2d(x, w, b, { stride: 2, padding: 1 }), [p([2, 2, 5, 5]), p([3, 2, 3, 3]), p([3])]);
    gradcheck((x, w) => T.conv2d(x, w), [p([1, 3, 4, 4]), p([2, 3, 2, 2])]);
  });
  it("maxPool2d and avgPool2d", () => {
    gradcheck((x) => T.maxPool2d(x, 2), [distinct([2, 2, 4, 4])]);
    gradcheck((x) => T.maxPool2d(x, 3, { stride: 2, padding: 1 }), [distinct([1, 2, 5, 5])]);
    gradcheck((x) => T.avgPool2d(x, 2, { stride: 1 }), [p([1, 2, 3, 4])]);
    gradcheck((x) => T.avgPool2d(x, 3, { stride: 2, padding: 1 }), [p([1, 1, 5, 5])]);
  });
  it("softmax and logSoftmax over inner and outer axes", () => {
    gradcheck((x) => T.softmax(x, -1), [p([3, 4])]);
    gradcheck((x) => T.softmax(x, 0), [p([3, 4])]);
    gradcheck((x) => T.logSoftmax(x, 1), [p([2, 3, 2])]);
  });
  it("crossEntropy with labels and with probabilities, every reduction", () => {
    gradcheck((x) => T.crossEntropy(x, [2, 0, 1, 2]), [p([4, 3])]);
    gradcheck((x) => T.crossEntropy(x, [2, 0, 1, 2], { reduction: "sum" }), [p([4, 3])]);
    gradcheck((x) => T.crossEntropy(x, [2, 0, 1, 2], { reduction: "none" }), [p([4, 3])]);
    const probs = T.softmax(T.randn(key(3), [4, 3]), 1);
    gradcheck((x) => T.crossEntropy(x, probs), [p([4, 3])]);
  });
  it("mseLoss", () => gradcheck((a, b) => T.mseLoss(a, b), [p([3, 4]), p([3, 4])]));
  it("dropout with a fixed key, both modes, and clone", () => {
    gradcheck((x) => T.dropout(x, 0.3, { key: key(5), training: true }), [p([4, 5])]);
    gradcheck((x) => T.dropout(x, 0.3, { key: key(5), training: true, mode: "classic" }), [p([4, 5])]);
    gradcheck((x) => T.dropout(x, 0.3, { training: false, mode: "classic" }), [p([4, 5])]);
    gradcheck((x) => T.clone(x).mul(x), [p([6])]);
  });
});

describe("the checker itself", () => {
  it("rejects a deliberately wrong gradient", async () => {
    const { result } = await import("../../src/tensor/tensor.js");
    const wrongSquare = (x: Tensor) =>
      result(x.data.map((v) => v * v), x.shape, "wrongSquare", [x], (g) => {
        x.grad = new Tensor(g.map((gi, i) => gi * x.data[i]!), x.shape); // should be 2·x
      });
    expect(() => gradcheck(wrongSquare, [p([4], { shift: 1 })])).toThrow(/analytic/);
  });
});
