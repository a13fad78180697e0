import { describe, expect, it } from "vitest";
import * as dl from "../../src/index.js";

describe("the public API (src/index.ts)", () => {
  it("chains PyTorch-style and trains a tiny model", () => {
    const k = dl.key(0);
    const [kw, kx] = dl.split(k);
    const w = dl.randn(kw!, [3, 2], { requiresGrad: true });
    const b = dl.zeros([2], { requiresGrad: true });
    const x = dl.randn(kx!, [8, 3]);
    const target = x.matmul(dl.tensor([[1, -1], [2, 0], [0, 3]]));
    let first = 0;
    let last = 0;
    for (let step = 0; step < 200; step++) {
      const loss = dl.mseLoss(x.matmul(w).add(b), target);
      if (step === 0) first = loss.item();
      last = loss.item();
      w.grad = null;
      b.grad = null;
      loss.backward();
      dl.noGrad(() => {
        for (const p of [w, b]) for (let i = 0; i < p.size; i++) p.data[i] -= 0.1 * p.grad!.data[i]!;
      });
    }
    expect(last).toBeLessThan(first * 1e-3);
  });

  it("exposes the random namespace and the top-level key functions", () => {
    dl.manualSeed(1);
    const a = dl.random.uniform([3]);
    dl.manualSeed(1);
    expect(Array.from(dl.random.uniform([3]).data)).toEqual(Array.from(a.data));
    expect(dl.random.permutation(dl.key(1), 4).length).toBe(4);
    expect(dl.foldIn(dl.key(1), 2)).toBeInstanceOf(dl.Key);
    expect(typeof dl.version).toBe("string");
  });
});
