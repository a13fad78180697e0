import { describe, expect, it } from "vitest";
import * as T from "../../src/tensor/index.js";
import { alloc, emptyCache, release } from "../../src/tensor/pool.js";
import { key } from "../../src/random/keys.js";

describe("recycled storage", () => {
  it("hands back released arrays zero-filled, and only arrays of the requested length", () => {
    emptyCache();
    const a = alloc(4096).fill(7);
    release(a);
    const b = alloc(4096);
    expect(b).toBe(a);
    expect(b.every((v) => v === 0)).toBe(true);
    expect(alloc(4096)).not.toBe(a);
    release(alloc(2048));
    expect(alloc(4096).length).toBe(4096);
  });

  it("never recycles what user code can still reach: outputs, leaf gradients, explicit gradients", () => {
    emptyCache();
    const x = T.randn(key(1), [64, 64], { requiresGrad: true });
    const w = T.randn(key(2), [64, 64], { requiresGrad: true });
    const h = x.matmul(w).tanh();
    const out = h.mul(h).sum(1);
    const seed = T.randn(key(3), [64]);
    const snapshot = (t: T.Tensor) => Array.from(t.data);
    const before = [h, out, seed].map(snapshot);
    out.backward(seed);
    const grads = [x.grad!, w.grad!].map(snapshot);
    // Many more steps that allocate and release same-sized arrays.
    for (let i = 0; i < 20; i++) {
      const y = T.randn(key(10 + i), [64, 64], { requiresGrad: true });
      y.mul(y).add(y.exp()).tanh().matmul(y).sum().backward();
    }
    expect([h, out, seed].map(snapshot)).toEqual(before);
    expect([x.grad!, w.grad!].map(snapshot)).toEqual(grads);
  });

  it("gives the same gradients with and without recycled arrays", () => {
    const run = () => {
      const x = T.randn(key(4), [50, 40], { requiresGrad: true });
      const b = T.randn(key(5), [40], { requiresGrad: true });
      for (let i = 0; i < 3; i++) x.add(b).sigmoid().mul(x).div(b.abs().add(1)).sum().backward();
      return [Array.from(x.grad!.data), Array.from(b.grad!.data)];
    };
    emptyCache();
    const first = run();
    expect(run()).toEqual(first); // second run draws from the pool filled by the first
  });
});
