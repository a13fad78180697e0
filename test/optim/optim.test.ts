/** Optimizers against PyTorch 1.13 (fixtures/make_golden.py), schedules and gradient clipping. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Tensor, randn } from "../../src/tensor/index.js";
import * as nn from "../../src/nn/index.js";
import { key } from "../../src/random/keys.js";
import { SGD, Adam, RMSProp, clipGradNorm, hinton2012, scheduleLr, type Optimizer } from "../../src/optim/optimizers.js";
import { stepSchedule } from "../../src/dropout/schedule.js";

const golden = JSON.parse(readFileSync(new URL("./fixtures/golden.json", import.meta.url), "utf8")) as {
  p0: number[]; c: number[]; cases: { optimizer: string; options: Record<string, unknown>; result: number[] }[];
};

function make(name: string, o: Record<string, unknown>, p: Tensor): Optimizer {
  const wd = (o.weight_decay as number | undefined) ?? 0;
  if (name === "SGD") return new SGD([p], { lr: o.lr as number, momentum: o.momentum as number | undefined, nesterov: o.nesterov as boolean | undefined, weightDecay: wd, dampening: o.dampening as number | undefined });
  if (name === "Adam") return new Adam([p], { lr: o.lr as number, betas: o.betas as [number, number] | undefined, weightDecay: wd });
  return new RMSProp([p], { lr: o.lr as number, alpha: o.alpha as number | undefined, momentum: o.momentum as number | undefined });
}

describe("optimizers match PyTorch", () => {
  for (const c of golden.cases) {
    it(`${c.optimizer} ${JSON.stringify(c.options)}`, () => {
      const p = new Tensor(Float32Array.from(golden.p0), [4], true);
      const ct = new Tensor(Float32Array.from(golden.c), [4]);
      const opt = make(c.optimizer, c.options, p);
      for (let s = 0; s < 5; s++) {
        opt.zeroGrad();
        p.mul(p).sum().add(ct.mul(p).sum()).backward();
        opt.step();
      }
      for (let i = 0; i < 4; i++) expect(p.data[i]).toBeCloseTo(c.result[i]!, 5);
    });
  }
});

describe("schedules and clipping", () => {
  it("hinton2012 sets lr·0.998^epoch and momentum 0.5 → 0.99; dampening 'momentum' scales the step by (1 − μ)", () => {
    const p = new Tensor(Float32Array.from([1]), [1], true);
    const opt = new SGD([p], { lr: 1, momentum: 0, dampening: "momentum" });
    const hooks = hinton2012(opt, { momentumEpochs: 500 });
    hooks.forEach((h) => h.onEpochBegin(250));
    expect(opt.lr).toBeCloseTo(10 * 0.998 ** 250, 10);
    expect(opt.momentum).toBeCloseTo(0.745, 12);
    hooks.forEach((h) => h.onEpochBegin(0));
    // Two steps with g = 1: v1 = g, w = 1 − 10; v2 = 0.5·1 + 0.5·1 = 1, w = −9 − 10.
    for (let s = 0; s < 2; s++) {
      p.grad = new Tensor(Float32Array.from([1]), [1]);
      opt.step();
    }
    expect(p.data[0]).toBeCloseTo(-19, 5);
  });

  it("scheduleLr follows its schedule", () => {
    const opt = new Adam([new Tensor(new Float32Array(1), [1], true)], { lr: 1 });
    const h = scheduleLr(opt, stepSchedule({ from: 0.1, factor: 0.1, every: 2 }));
    h.onEpochBegin(3);
    expect(opt.lr).toBeCloseTo(0.01, 12);
  });

  it("clipGradNorm scales all gradients together to the bound and returns the norm", () => {
    const a = new Tensor(new Float32Array(2), [2], true);
    const b = new Tensor(new Float32Array(1), [1], true);
    a.grad = new Tensor(Float32Array.from([3, 0]), [2]);
    b.grad = new Tensor(Float32Array.from([4]), [1]);
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 6);
    expect(a.grad.data[0]).toBeCloseTo(0.6, 5);
    expect(b.grad.data[0]).toBeCloseTo(0.8, 5);
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 5);
    expect(a.grad.data[0]).toBeCloseTo(0.6, 5);
  });

  it("rejects bad settings", () => {
    const p = new Tensor(new Float32Array(1), [1], true);
    expect(() => new SGD([p], { lr: -1 })).toThrow(/lr/);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/nesterov/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/no parameters/);
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow(/betas/);
  });
});

describe("zeroGrad", () => {
  const layerGrads = (l: nn.Linear) => [l.weight.grad!, l.bias!.grad!].map((g) => Array.from(g.data, (v) => (v === 0 ? 0 : v)));

  it("reads as zeros afterwards, and the next backward gives the gradient of that step alone", () => {
    const make = () => new nn.Linear(30, 40, { key: key(40), activation: "relu" });
    const x1 = randn(key(41), [16, 30]), x2 = randn(key(42), [16, 30]);
    const a = make();
    const opt = new SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
    a.forward(x1).sum().backward();
    opt.zeroGrad();
    for (const p of a.parameters()) expect(p.grad!.data.every((v) => v === 0)).toBe(true);
    a.forward(x2).sum().backward();
    const b = make(); // same weights, no earlier gradient
    b.forward(x2).sum().backward();
    expect(layerGrads(a)).toEqual(layerGrads(b));
    // A second backward without zeroGrad accumulates onto it.
    a.forward(x2).sum().backward();
    b.zeroGrad();
    for (let i = 0; i < 2; i++) b.forward(x2).sum().backward();
    expect(layerGrads(a)).toEqual(layerGrads(b));
  });

  it("keeps momentum moving a parameter that got no gradient in a step", () => {
    const w = new Tensor(new Float32Array([1, 2]), [2], true), u = new Tensor(new Float32Array([3]), [1], true);
    const opt = new SGD([w, u], { lr: 0.5, momentum: 0.5 });
    w.mul(w).sum().add(u.mul(2).sum()).backward();
    opt.step();
    opt.zeroGrad();
    u.mul(2).sum().backward(); // w takes no part: its gradient stays the zeros zeroGrad left
    opt.step();
    // w: v = g = 2w0 = [2, 4], w = w0 − 0.5v = [0, 0]; then v = 0.5v + 0 = [1, 2], w = −0.5v = [−0.5, −1].
    expect(Array.from(w.data)).toEqual([-0.5, -1]);
    expect(Array.from(w.grad!.data)).toEqual([0, 0]);
  });
});
