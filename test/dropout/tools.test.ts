/** Rate schedules, max-norm, and Monte-Carlo dropout prediction. */
import { describe, expect, it } from "vitest";
import { Tensor, randn } from "../../src/tensor/index.js";
import { key } from "../../src/random/keys.js";
import { Dropout, GaussianDropout } from "../../src/dropout/base.js";
import { linearSchedule, exponentialSchedule, stepSchedule, scheduleDropout, applyMaxNorm, maxNorm, mcPredict } from "../../src/dropout/schedule.js";
import { Linear, Sequential, BatchNorm1d, ReLU } from "../../src/nn/index.js";

describe("schedules", () => {
  it("linear, exponential and step values", () => {
    const lin = linearSchedule({ from: 0.5, to: 0.99, epochs: 500 });
    expect(lin(0)).toBe(0.5);
    expect(lin(250)).toBeCloseTo(0.745, 12);
    expect(lin(500)).toBeCloseTo(0.99, 12);
    expect(lin(900)).toBeCloseTo(0.99, 12);
    const ex = exponentialSchedule({ from: 10, factor: 0.998 });
    expect(ex(0)).toBe(10);
    expect(ex(100)).toBeCloseTo(10 * 0.998 ** 100, 10);
    expect(exponentialSchedule({ from: 0.5, to: 0.1, factor: 0.5 })(1)).toBeCloseTo(0.3, 12);
    const st = stepSchedule({ from: 0.5, factor: 0.5, every: 10 });
    expect([st(0), st(9), st(10), st(25)]).toEqual([0.5, 0.5, 0.25, 0.125]);
    expect(() => stepSchedule({ from: 1, factor: 0.5, every: 0 })).toThrow(/every/);
  });

  it("scheduleDropout sets the rate of every dropout module of a model at each epoch", () => {
    const d1 = new Dropout(0.5, { key: key(1) });
    const d2 = new GaussianDropout(0.5, { key: key(2) });
    const net = new Sequential(new Linear(3, 3, { key: key(3) }), d1, d2);
    const hook = scheduleDropout(net, linearSchedule({ from: 0, to: 0.5, epochs: 10 }));
    hook.onEpochBegin(4);
    expect(d1.p).toBeCloseTo(0.2, 12);
    expect(d2.p).toBeCloseTo(0.2, 12);
    expect(() => scheduleDropout(new Sequential(new ReLU()), () => 0.1)).toThrow(/no dropout modules/);
    expect(() => scheduleDropout([d1], () => 2).onEpochBegin(0)).toThrow(/rate must be/);
  });
});

describe("max-norm", () => {
  it("projects rows with norm above c onto the sphere, leaves the others", () => {
    const w = new Tensor(Float32Array.from([3, 4, 0.3, 0.4, 0, 0]), [3, 2]);
    applyMaxNorm([w], 2);
    expect(Array.from(w.data).map((v) => +v.toFixed(6))).toEqual([1.2, 1.6, 0.3, 0.4, 0, 0]);
  });

  it("maxNorm(model, c) bounds every unit's incoming weights of Linear layers", () => {
    const net = new Sequential(new Linear(50, 20, { key: key(4), init: "he" }), new Linear(20, 5, { key: key(5) }));
    for (const p of net.parameters()) p.data.forEach((v, i) => (p.data[i] = v * 10));
    const bias = net.parameters()[1]!.data.slice();
    maxNorm(net, Math.sqrt(15)).onBatchEnd();
    for (const lin of net.layers as Linear[]) {
      const [o, n] = lin.weight.shape as [number, number];
      for (let r = 0; r < o; r++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += lin.weight.data[r * n + j]! ** 2;
        expect(s).toBeLessThanOrEqual(15 * (1 + 1e-5));
      }
    }
    expect(net.parameters()[1]!.data).toEqual(bias);
  });
});

describe("mcPredict", () => {
  const net = () =>
    new Sequential(new Dropout(0.5, { key: key(10) }), new Linear(8, 3, { key: key(11) }), new BatchNorm1d(3), new ReLU(), new Dropout(0.3, { key: key(12) }), new Linear(3, 2, { key: key(13) }));
  const x = randn(key(14), [16, 8]);

  it("returns mean, variance and the weight-scaling prediction; reproducible per key; restores modes and streams", () => {
    const m = net();
    m.eval();
    const bn = m.layers[2] as BatchNorm1d;
    bn.runningMean.data.set([0.1, -0.2, 0.3]);
    const d0 = m.layers[0] as Dropout;
    const before = d0.stream.save();
    const a = mcPredict(m, x, { samples: 20, key: key(15) });
    const b = mcPredict(m, x, { samples: 20, key: key(15) });
    const c = mcPredict(m, x, { samples: 20, key: key(16) });
    expect(a.mean.shape).toEqual([16, 2]);
    expect(a.mean.data).toEqual(b.mean.data);
    expect(a.mean.data).not.toEqual(c.mean.data);
    expect(a.variance.data.some((v) => v > 0)).toBe(true);
    expect(a.weightScaling.data).toEqual(m.forward(x).data);
    expect(m.modules().every((mm) => !mm.training)).toBe(true);
    expect(d0.stream.save()).toEqual(before);
    // BatchNorm stayed in eval: its running statistics did not move.
    expect(Array.from(bn.runningMean.data).map((v) => +v.toFixed(6))).toEqual([0.1, -0.2, 0.3]);
  });

  it("for a linear model the MC mean converges to the weight-scaling prediction", () => {
    const m = new Sequential(new Dropout(0.5, { key: key(20) }), new Linear(8, 3, { key: key(21) }));
    const r = mcPredict(m, x, { samples: 2000, key: key(22) });
    // Each sample's output has variance r.variance; the mean of 2000 has sd sqrt(var/2000).
    for (let i = 0; i < r.mean.size; i++) {
      expect(Math.abs(r.mean.data[i]! - r.weightScaling.data[i]!)).toBeLessThan(4 * Math.sqrt(r.variance.data[i]! / 2000) + 1e-5);
    }
  });

  it("without dropout the variance is zero and probabilities sum to one", () => {
    const m = new Sequential(new Linear(8, 3, { key: key(23) }));
    const r = mcPredict(m, x, { samples: 3, key: key(24), probabilities: true });
    expect(r.variance.data.every((v) => v < 1e-12)).toBe(true);
    for (let i = 0; i < 16; i++) expect(r.mean.data[3 * i]! + r.mean.data[3 * i + 1]! + r.mean.data[3 * i + 2]!).toBeCloseTo(1, 5);
    expect(() => mcPredict(m, x, { samples: 0, key: key(1) })).toThrow(/samples/);
  });
});
