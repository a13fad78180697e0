import { afterEach, describe, expect, it } from "vitest";
import * as T from "../../src/tensor/index.js";
import * as B from "../../src/backend/index.js";
import * as nn from "../../src/nn/index.js";
import { SGD } from "../../src/optim/optimizers.js";
import { alloc, emptyCache, release } from "../../src/tensor/pool.js";
import { key, manualSeed } from "../../src/random/keys.js";

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

describe("tidy", () => {
  const backendsToTry = B.availableBackends();
  afterEach(() => B.useBackend(backendsToTry[0]!));

  it("keeps what it returns and disposes every other tensor made inside it", () => {
    const x = T.randn(key(20), [40, 40]);
    let inner: T.Tensor | null = null;
    const [y, parts] = T.tidy(() => {
      inner = x.mul(2).tanh();
      const y = inner.add(1);
      return [y, { s: y.sum(), list: [y.mean()] }] as const;
    });
    expect(Array.from(y.data)).toEqual(Array.from(x.mul(2).tanh().add(1).data));
    expect(parts.s.item()).toBeCloseTo(y.sum().item(), 3);
    expect(parts.list[0]!.item()).toBeCloseTo(y.mean().item(), 5);
    expect(() => inner!.data).toThrow(/disposed/);
    expect(() => inner!.toArray()).toThrow(/disposed/);
    expect(inner!.shape).toEqual([40, 40]);
    expect(x.data.length).toBe(1600); // made outside: untouched
  });

  it("reuses the storage of the previous scope on a WebAssembly backend", () => {
    if (B.backendName() === "js") return;
    const x = T.randn(key(21), [64, 64]);
    const where = () => T.tidy(() => {
      const y = x.mul(3);
      expect(B.isResident(y.data)).toBe(true);
      return y.data.byteOffset;
    });
    const first = where();
    expect(where()).toBe(first);
  });

  it("leaves parameters, leaf gradients and module buffers made inside it intact", () => {
    const x = T.randn(key(22), [8, 30], { requiresGrad: true });
    const { layer, norm } = T.tidy(() => {
      const layer = new nn.Linear(30, 1100, { key: key(23) });
      const norm = new nn.BatchNorm1d(1100);
      norm.forward(layer.forward(x)).sum().backward();
      return { layer, norm };
    });
    const w = Array.from(layer.weight.data);
    expect(layer.weight.grad!.data.some((v) => v !== 0)).toBe(true);
    expect(x.grad!.data.some((v) => v !== 0)).toBe(true);
    expect(norm.runningMean.data.some((v) => v !== 0)).toBe(true);
    T.tidy(() => T.randn(key(24), [2000]).mul(layer.weight.data.length)); // more scoped storage, reusing blocks
    expect(Array.from(layer.weight.data)).toEqual(w);
  });

  it("keeps a leaf gradient that takes the block of an intermediate gradient released earlier in the scope", () => {
    if (B.backendName() === "js") return;
    // Parameters in the backend's memory, as modules make them; their gradients come from there too.
    const resident = (seed: number, shape: number[]) => {
      const t = new T.Tensor(B.allocate(2048), shape, { requiresGrad: true });
      t.data.set(T.randn(key(seed), [2048]).data);
      return t;
    };
    const w = resident(30, [2048]);
    const v = resident(31, [8, 16, 4, 4]); // a conv weight of as many values
    T.tidy(() => {
      // softmax's backward gives mul's output a gradient in scoped storage, which backward releases once used.
      T.softmax(w.mul(2)).mul(T.randn(key(32), [2048])).sum().backward();
      // conv2d's backward first takes the weight's new gradient buffer: the block just released.
      T.conv2d(T.ones([1, 16, 4, 4]), v).sum().backward();
    });
    expect(() => v.grad!.data).not.toThrow();
    expect(Array.from(v.grad!.data.subarray(0, 4))).toEqual([1, 1, 1, 1]);
    expect(w.grad!.data.some((x) => x !== 0)).toBe(true);
  });

  it("hands a nested scope's result to the outer scope, which disposes it unless it returns it too", () => {
    const x = T.randn(key(25), [50, 50]);
    let kept: T.Tensor | null = null;
    let dropped: T.Tensor | null = null;
    const out = T.tidy(() => {
      kept = T.tidy(() => x.exp());
      dropped = T.tidy(() => x.abs());
      expect(dropped.data.length).toBe(2500); // alive until the outer scope closes
      return kept;
    });
    expect(out).toBe(kept);
    expect(out.data[0]).toBe(Math.fround(Math.exp(x.data[0]!)));
    expect(() => dropped!.data).toThrow(/disposed/);
  });

  it("closes its scope when the function throws", () => {
    const x = T.randn(key(26), [40, 40]);
    let made: T.Tensor | null = null;
    expect(() => T.tidy(() => {
      made = x.neg();
      throw new Error("boom");
    })).toThrow("boom");
    expect(() => made!.data).toThrow(/disposed/);
    const after = x.neg(); // no scope open any more: never disposed
    T.tidy(() => x.neg().neg());
    expect(after.data[0]).toBe(-x.data[0]!);
  });

  it("trains to the same bits with and without it, on every backend", () => {
    const train = (scoped: boolean) => {
      manualSeed(7);
      const model = new nn.Sequential(new nn.Linear(20, 64, { activation: "relu" }), new nn.Dropout(0.5), new nn.Linear(64, 5));
      const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const x = T.randn(key(27), [32, 20]);
      const y = Array.from({ length: 32 }, (_, i) => i % 5);
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const step = () => {
          opt.zeroGrad();
          const loss = T.crossEntropy(model.forward(x), y);
          loss.backward();
          opt.step();
          return loss.item();
        };
        losses.push(scoped ? T.tidy(step) : step());
      }
      return [losses, ...model.parameters().map((p) => Array.from(p.data))];
    };
    for (const name of backendsToTry) {
      B.useBackend(name);
      expect(train(true)).toEqual(train(false));
    }
  });
});

describe("tidy after a terminated execution", () => {
  it("closes the scope that a terminated call left open when the event loop turns", async () => {
    const { runInNewContext } = await import("node:vm");
    const x = T.randn(key(50), [40, 40]);
    const made: T.Tensor[] = [];
    // The vm's timeout terminates the script inside tidy, as a kernel interrupt does: tidy cannot close its scope.
    expect(() => runInNewContext("tidy(() => { made.push(x.neg()); for (;;) {} })", { tidy: T.tidy, made, x }, { timeout: 50 })).toThrow(/timed out/);
    await new Promise((res) => setTimeout(res, 10));
    expect(() => made[0]!.data).toThrow(/disposed/);
    const later = x.neg(); // no scope open any more
    T.tidy(() => x.neg());
    expect(later.data[0]).toBe(-x.data[0]!);
  });
});
