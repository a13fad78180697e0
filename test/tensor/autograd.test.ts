import { describe, expect, it } from "vitest";
import * as T from "../../src/tensor/index.js";
import { Tensor, noGrad, tensor } from "../../src/tensor/index.js";

describe("autograd", () => {
  it("sums the gradients of a tensor used twice: d(x·x + x)/dx = 2x + 1", () => {
    const x = tensor([1, -2, 3], { requiresGrad: true });
    x.mul(x).add(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([3, -3, 7]);
  });

  it("accumulates across backward calls until grad is reset", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(3).sum();
    y.backward();
    y.backward();
    expect(x.grad!.toArray()).toEqual([6, 6]);
    x.grad = null;
    x.mul(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 4]);
  });

  it("handles a diamond and a deep chain (no recursion limit)", () => {
    const x = tensor([0.5], { requiresGrad: true });
    const a = x.exp();
    const y = a.mul(a.tanh()).add(a);
    y.backward();
    const e = Math.exp(0.5);
    const expected = e * Math.tanh(e) + e * e * (1 - Math.tanh(e) ** 2) + e;
    expect(x.grad!.item()).toBeCloseTo(expected, 5);
    let z = tensor([1], { requiresGrad: true });
    const leaf = z;
    for (let i = 0; i < 20_000; i++) z = z.add(1);
    z.backward();
    expect(leaf.grad!.item()).toBe(1);
  });

  it("sums gradients over broadcast dimensions", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const b = tensor([10, 20, 30], { requiresGrad: true });
    const c = tensor([[2], [3]], { requiresGrad: true });
    a.add(b).mul(c).sum().backward();
    expect(a.grad!.toArray()).toEqual([[2, 2, 2], [3, 3, 3]]);
    expect(b.grad!.toArray()).toEqual([5, 5, 5]);
    expect(c.grad!.toArray()).toEqual([[66], [75]]);
  });

  it("takes an explicit output gradient and checks its size", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(2).backward(tensor([1, 0, -1]));
    expect(x.grad!.toArray()).toEqual([2, 0, -2]);
    expect(() => x.mul(2).backward()).toThrow(/backward: a gradient is needed for a non-scalar output of shape \[3\]/);
    expect(() => x.mul(2).backward(tensor([1, 2]))).toThrow(/backward: gradient of shape \[2\] does not match output \[3\]/);
    expect(() => tensor([1]).backward()).toThrow(/does not require grad/);
  });

  it("records nothing inside noGrad and restores afterwards, even after a throw", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => w.mul(2).sum());
    expect(y.requiresGrad).toBe(false);
    expect(() => noGrad(() => { throw new Error("boom"); })).toThrow("boom");
    expect(T.isGradEnabled()).toBe(true);
    expect(w.mul(2).requiresGrad).toBe(true);
  });

  it("detach cuts the graph and shares data", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    const y = x.mul(d).sum(); // d is a constant: dy/dx = d
    y.backward();
    expect(x.grad!.toArray()).toEqual([2, 4]);
    expect(x.detach().data).toBe(x.data);
  });

  it("only records ops that need a gradient", () => {
    const a = tensor([1, 2]);
    expect(a.add(1).requiresGrad).toBe(false);
    expect(a.add(1).op).toBe("");
    const b = tensor([1, 2], { requiresGrad: true });
    expect(a.add(b).op).toBe("add");
  });

  it("frees intermediate gradients and keeps leaf gradients", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(2);
    h.sum().backward();
    expect(h.grad).toBeNull();
    expect(x.grad).not.toBeNull();
  });
});

describe("shape errors name the op and both shapes", () => {
  const a = T.zeros([2, 3]);
  it.each([
    ["add", () => T.add(a, T.zeros([4])), "add: shapes [2,3] and [4] do not broadcast"],
    ["mul", () => a.mul(T.zeros([3, 2])), "mul: shapes [2,3] and [3,2] do not broadcast"],
    ["matmul", () => a.matmul(T.zeros([2, 3])), "matmul: shapes [2,3] and [2,3] do not match"],
    ["batched matmul", () => T.matmul(T.zeros([2, 2, 3]), T.zeros([3, 3, 1])), "matmul: shapes [2] and [3] do not broadcast"],
    ["reshape", () => a.reshape([4, 2]), "reshape: cannot reshape [2,3] to [4,2]"],
    ["linear", () => T.linear(a, T.zeros([4, 2])), "linear: input [2,3] and weight [4,2] do not match"],
    ["conv2d", () => T.conv2d(T.zeros([1, 2, 5, 5]), T.zeros([4, 3, 3, 3])), "conv2d: input [1,2,5,5] and weight [4,3,3,3] do not match"],
    ["concat", () => T.concat([a, T.zeros([3, 3])], 1), "concat: shapes [2,3] and [3,3] differ outside axis 1"],
    ["crossEntropy", () => T.crossEntropy(a, [0, 1, 2]), "crossEntropy: logits [2,3] and 3 labels do not match"],
    ["mseLoss", () => T.mseLoss(a, T.zeros([3, 2])), "mseLoss: shapes [2,3] and [3,2] differ"],
    ["expand", () => T.expand(a, [2, 6]), "expand: shapes [2,3] and [2,6] do not broadcast"],
    ["gather", () => T.gather(a, 1, T.zeros([3, 1])), "gather: index shape [3,1] does not fit input [2,3] along axis 1"],
    ["axis", () => a.sum(2), "sum: axis 2 out of range for 2 dimensions"],
    ["index", () => a.indexSelect(0, [2]), "indexSelect: index 2 out of range [0, 2)"],
    ["tensor", () => tensor([[1, 2], [3]]), "tensor: ragged nested array at depth 1: expected length 2, got 1"],
    ["item", () => a.item(), "item: tensor of shape [2,3] has 6 elements, not 1"],
  ])("%s", (_, fn, message) => {
    expect(fn).toThrow(message);
  });
  it("Tensor constructor checks the data length", () => {
    expect(() => new Tensor(new Float32Array(5), [2, 3])).toThrow("Tensor: 5 values do not fill shape [2,3]");
  });
});
