import { describe, expect, it } from "vitest";
import * as T from "../../src/tensor/index.js";
import { Tensor, tensor } from "../../src/tensor/index.js";
import { key } from "../../src/random/keys.js";

const close = (t: Tensor, expected: number[], digits = 5) => {
  expect(t.size).toBe(expected.length);
  t.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits));
};

describe("creation", () => {
  it("tensor from nested arrays, typed arrays with a shape, and numbers", () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.ndim).toBe(2);
    expect(t.size).toBe(6);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const src = Float64Array.from([1, 2, 3, 4]);
    const u = tensor(src, { shape: [2, 2] });
    expect(u.toArray()).toEqual([[1, 2], [3, 4]]);
    src[0] = 9;
    expect(u.data[0]).toBe(1); // copied
    expect(tensor(5).shape).toEqual([]);
    expect(tensor(5).item()).toBe(5);
    expect(tensor(5).toArray()).toBe(5);
    expect(tensor([]).shape).toEqual([0]);
  });
  it("zeros, ones, full, arange, eye, *Like", () => {
    expect(T.zeros([2]).toArray()).toEqual([0, 0]);
    expect(T.ones([1, 2]).toArray()).toEqual([[1, 1]]);
    expect(T.full([2], 7, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(T.arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(T.arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(T.arange(3, 0, -1).toArray()).toEqual([3, 2, 1]);
    expect(T.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(T.zerosLike(T.eye(2)).shape).toEqual([2, 2]);
    expect(T.onesLike(T.eye(2)).data.every((v) => v === 1)).toBe(true);
  });
  it("rand and randn are deterministic per key", () => {
    expect(Array.from(T.rand(key(1), [5]).data)).toEqual(Array.from(T.rand(key(1), [5]).data));
    expect(Array.from(T.randn(key(1), [5]).data)).not.toEqual(Array.from(T.randn(key(2), [5]).data));
    const r = T.rand(key(3), [1000]).data;
    expect(r.every((v) => v >= 0 && v < 1)).toBe(true);
  });
  it("prints like PyTorch", () => {
    expect(String(tensor([[1, 2], [3, 4]]))).toBe("tensor([[1., 2.],\n        [3., 4.]])");
    expect(String(tensor([0.5, -1.25], { requiresGrad: true }))).toBe("tensor([ 0.5000, -1.2500], requiresGrad=true)");
    expect(String(T.zeros([2000]))).toMatch(/^tensor\(\[0., 0., 0., \.\.\., 0., 0., 0.\], shape=\[2000\]\)$/);
    expect(String(tensor(3))).toBe("tensor(3.)");
    expect(String(T.zeros([0, 3]))).toBe("tensor([], shape=[0,3])");
  });
});

describe("elementwise and reductions", () => {
  it("broadcast arithmetic", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.add(tensor([10, 20, 30])).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(a.sub(tensor([[1], [2]])).toArray()).toEqual([[0, 1, 2], [2, 3, 4]]);
    expect(tensor([[1], [2]]).mul(tensor([1, 10, 100])).toArray()).toEqual([[1, 10, 100], [2, 20, 200]]);
    expect(a.div(2).toArray()).toEqual([[0.5, 1, 1.5], [2, 2.5, 3]]);
    expect(T.sub(1, a).toArray()).toEqual([[0, -1, -2], [-3, -4, -5]]);
    expect(T.zeros([2, 1, 3]).add(T.ones([4, 1])).shape).toEqual([2, 4, 3]);
  });
  it("unary functions and comparisons", () => {
    const x = tensor([-2, -0.5, 0, 1.5]);
    expect(x.relu().toArray()).toEqual([0, 0, 0, 1.5]);
    expect(x.abs().toArray()).toEqual([2, 0.5, 0, 1.5]);
    expect(x.clamp(-1, 1).toArray()).toEqual([-1, -0.5, 0, 1]);
    expect(x.neg().toArray()).toEqual([2, 0.5, -0, -1.5]);
    close(x.sigmoid(), [1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(0.5)), 0.5, 1 / (1 + Math.exp(-1.5))]);
    close(x.tanh(), [-2, -0.5, 0, 1.5].map(Math.tanh));
    close(x.exp(), [-2, -0.5, 0, 1.5].map(Math.exp));
    close(tensor([1, 4]).sqrt(), [1, 2]);
    close(tensor([1, Math.E]).log(), [0, 1]);
    expect(x.pow(2).toArray()).toEqual([4, 0.25, 0, 2.25]);
    expect(tensor([2, 3]).pow(tensor([3, 2])).toArray()).toEqual([8, 9]);
    expect(T.maximum(x, 0).toArray()).toEqual([0, 0, 0, 1.5]);
    expect(T.minimum(x, tensor([0])).toArray()).toEqual([-2, -0.5, 0, 0]);
    expect(T.where(tensor([1, 0, 1, 0]), x, 9).toArray()).toEqual([-2, 9, 0, 9]);
    expect(T.sigmoid(tensor([-1000, 1000])).toArray()).toEqual([0, 1]);
  });
  it("comparisons give 0/1 without a gradient; clone copies", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    expect(a.eq(tensor([1, 0, 3])).toArray()).toEqual([1, 0, 1]);
    expect(a.gt(2).toArray()).toEqual([0, 0, 1]);
    expect(a.ge(2).toArray()).toEqual([0, 1, 1]);
    expect(a.lt(2).toArray()).toEqual([1, 0, 0]);
    expect(T.le(a, tensor([[2], [0]])).toArray()).toEqual([[1, 1, 0], [0, 0, 0]]);
    expect(a.gt(0).requiresGrad).toBe(false);
    expect(() => a.lt(T.zeros([2]))).toThrow("lt: shapes [3] and [2] do not broadcast");
    const c = a.clone();
    expect(c.data).not.toBe(a.data);
    c.mul(tensor([1, 2, 3])).sum().backward();
    expect(a.grad!.toArray()).toEqual([1, 2, 3]);
  });
  it("sum, mean, max, min, argmax, var, logsumexp over axes", () => {
    const a = tensor([[1, 5, 3], [4, 2, 6]]);
    expect(a.sum().item()).toBe(21);
    expect(a.sum(0).toArray()).toEqual([5, 7, 9]);
    expect(a.sum(1, true).toArray()).toEqual([[9], [12]]);
    expect(a.sum([0, 1], true).shape).toEqual([1, 1]);
    expect(a.mean(-1).toArray()).toEqual([3, 4]);
    expect(a.max(1).toArray()).toEqual([5, 6]);
    expect(a.min(0).toArray()).toEqual([1, 2, 3]);
    expect(a.max().item()).toBe(6);
    expect(a.argmax(1).toArray()).toEqual([1, 2]);
    expect(a.argmax().item()).toBe(5);
    expect(tensor([3, 7, 7]).argmax().item()).toBe(1); // first maximum
    close(a.var(1), [4, 4]);
    close(a.var(1, false, 0), [8 / 3, 8 / 3]);
    close(a.logsumexp(1), [Math.log(Math.exp(1) + Math.exp(5) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(2) + Math.exp(6))]);
    close(tensor([1000, 1000]).logsumexp(0), [1000 + Math.log(2)], 3);
    expect(tensor([-Infinity, -Infinity]).logsumexp(0).item()).toBe(-Infinity);
  });
});

describe("matmul", () => {
  const naive = (a: number[][], b: number[][]) => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
  it("2-D against a naive product", () => {
    const a = T.randn(key(1), [3, 4]);
    const b = T.randn(key(2), [4, 2]);
    close(a.matmul(b), naive(a.toArray() as number[][], b.toArray() as number[][]).flat());
  });
  it("batched with broadcast batch, and 1-D shapes", () => {
    const a = T.randn(key(3), [2, 3, 4]);
    const b = T.randn(key(4), [1, 4, 5]);
    const c = a.matmul(b);
    expect(c.shape).toEqual([2, 3, 5]);
    const bm = (b.toArray() as number[][][])[0]!;
    close(c, (a.toArray() as number[][][]).flatMap((m) => naive(m, bm).flat()));
    expect(T.matmul(tensor([1, 2]), tensor([3, 4])).toArray()).toBe(11);
    expect(T.matmul(tensor([[1, 2], [3, 4]]), tensor([1, 1])).toArray()).toEqual([3, 7]);
    expect(T.matmul(tensor([1, 1]), tensor([[1, 2], [3, 4]])).toArray()).toEqual([4, 6]);
    expect(T.matmul(T.zeros([5, 2, 3]), T.zeros([3])).shape).toEqual([5, 2]);
  });
  it("linear equals x·wᵀ + b with the activation", () => {
    const x = T.randn(key(5), [4, 3]);
    const w = T.randn(key(6), [2, 3]);
    const b = tensor([0.5, -0.5]);
    close(T.linear(x, w, b, "relu"), Array.from(x.matmul(w.transpose()).add(b).relu().data));
    close(x.linear(w, b, "tanh"), Array.from(x.matmul(w.transpose()).add(b).tanh().data));
    close(T.linear(x, w), Array.from(x.matmul(w.transpose()).data));
  });
});

describe("shape ops", () => {
  const a = T.arange(24).reshape([2, 3, 4]);
  it("reshape infers -1 and shares data; flatten, squeeze, unsqueeze", () => {
    expect(a.reshape([4, -1]).shape).toEqual([4, 6]);
    expect(a.view([-1]).data).toBe(a.data);
    expect(a.flatten(1).shape).toEqual([2, 12]);
    expect(a.flatten().shape).toEqual([24]);
    expect(T.zeros([1, 3, 1]).squeeze().shape).toEqual([3]);
    expect(T.zeros([3]).unsqueeze(-1).shape).toEqual([3, 1]);
    expect(T.zeros([3]).unsqueeze(0).shape).toEqual([1, 3]);
  });
  it("transpose and permute", () => {
    expect(tensor([[1, 2, 3], [4, 5, 6]]).transpose().toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    const p = a.permute([2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    expect((p.toArray() as number[][][])[1]![1]![2]).toBe(((a.toArray() as number[][][])[1]![2]![1]));
  });
  it("slice with Python semantics", () => {
    const m = T.arange(12).reshape([3, 4]);
    expect(m.slice([null, [1, 3]]).toArray()).toEqual([[1, 2], [5, 6], [9, 10]]);
    expect(m.slice([[-1]]).toArray()).toEqual([[8, 9, 10, 11]]);
    expect(m.slice([[0, 100, 2], [null, null, 3]]).toArray()).toEqual([[0, 3], [8, 11]]);
    expect(m.slice([[2, 1]]).shape).toEqual([0, 4]);
    expect(() => m.slice([[0, 1, 0]])).toThrow("slice: step must be a positive integer, got 0");
  });
  it("chunk splits like PyTorch", () => {
    const parts = T.arange(10).reshape([2, 5]).chunk(3, 1);
    expect(parts.map((t) => t.toArray())).toEqual([[[0, 1], [5, 6]], [[2, 3], [7, 8]], [[4], [9]]]);
    expect(T.chunk(T.zeros([4, 8]), 4, -1).map((t) => t.shape)).toEqual([[4, 2], [4, 2], [4, 2], [4, 2]]);
  });
  it("concat, stack, indexSelect, gather, oneHot, expand", () => {
    expect(T.concat([tensor([[1], [2]]), tensor([[3, 4], [5, 6]])], 1).toArray()).toEqual([[1, 3, 4], [2, 5, 6]]);
    expect(T.concat([tensor([1]), tensor([2, 3])]).toArray()).toEqual([1, 2, 3]);
    expect(T.stack([tensor([1, 2]), tensor([3, 4])], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    const m = tensor([[1, 2], [3, 4], [5, 6]]);
    expect(m.indexSelect(0, Int32Array.from([2, 0])).toArray()).toEqual([[5, 6], [1, 2]]);
    expect(m.indexSelect(1, tensor([1])).toArray()).toEqual([[2], [4], [6]]);
    expect(m.gather(1, tensor([[1], [0], [1]])).toArray()).toEqual([[2], [3], [6]]);
    expect(T.oneHot([2, 0], 3).toArray()).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(T.oneHot(tensor([[1]]), 2).shape).toEqual([1, 1, 2]);
    expect(tensor([[1], [2]]).expand([2, 3]).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
  });
});

describe("softmax and losses", () => {
  it("softmax rows sum to 1 and are stable for large logits", () => {
    const s = tensor([[1000, 1001, 1002], [-5, 0, 5]]).softmax(1);
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const z = e[0]! + e[1]! + e[2]!;
    close(s.slice([[0, 1]]), e.map((v) => v / z));
    close(s.sum(1), [1, 1]);
    close(tensor([[1, 2], [3, 4]]).logSoftmax(0), [1 - (3 + Math.log(1 + Math.exp(-2))), 2 - (4 + Math.log(1 + Math.exp(-2))), 3 - (3 + Math.log(1 + Math.exp(-2))), 4 - (4 + Math.log(1 + Math.exp(-2)))]);
  });
  it("crossEntropy on a hand-computed example", () => {
    // Row 1: logits [2, 1, 0], label 0: −log(e²/(e² + e + 1)) = log(1 + e⁻¹ + e⁻²) = 0.40760596.
    // Row 2: logits [0, 0, 0], label 2: log 3 = 1.09861229.
    const logits = tensor([[2, 1, 0], [0, 0, 0]]);
    close(T.crossEntropy(logits, [0, 2], { reduction: "none" }), [0.40760596, 1.09861229]);
    close(T.crossEntropy(logits, [0, 2]), [(0.40760596 + 1.09861229) / 2]);
    close(T.crossEntropy(logits, [0, 2], { reduction: "sum" }), [0.40760596 + 1.09861229]);
    close(T.crossEntropy(logits, T.oneHot([0, 2], 3)), [(0.40760596 + 1.09861229) / 2]);
    close(T.crossEntropy(tensor([[1e4, 0]]), [1]), [1e4], 1);
    expect(() => T.crossEntropy(logits, [0, 3])).toThrow("crossEntropy: index 3 out of range [0, 3)");
  });
  it("mseLoss", () => {
    close(T.mseLoss(tensor([1, 2, 3]), tensor([1, 0, 0])), [13 / 3]);
    close(T.mseLoss(tensor([1, 2]), tensor([0, 0]), { reduction: "sum" }), [5]);
  });
});
