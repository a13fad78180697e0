/** fit/evaluate: learning, History shape, callbacks, AbortSignal, NaN detection, early stopping, modes. */
import { describe, expect, it } from "vitest";
import {
  Sequential, Linear, Dropout, BatchNorm1d, SGD, Tensor, fit, evaluate, earlyStopping, maxNorm, scheduleDropout, linearSchedule, key, randn,
  type Dataset, type Callback,
} from "../../src/index.js";

/** Two Gaussian blobs in 4-D, labels 0/1. */
function blobs(seed: number, n: number): Dataset {
  const x = randn(key(seed), [n, 4]);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    x.data[i * 4] += i % 2 ? 2 : -2;
  }
  return { x, y: new Tensor(y, [n]) };
}

const net = () => new Sequential(new Linear(4, 16, { activation: "relu", key: key(1) }), new Dropout(0.2, { key: key(2) }), new Linear(16, 2, { key: key(3) }));

describe("fit", () => {
  it("learns, records per-epoch and per-batch logs, and evaluates in eval mode", async () => {
    const model = net();
    const data = blobs(10, 200);
    const val = blobs(11, 100);
    const h = await fit(model, data, { epochs: 5, batchSize: 32, optimizer: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }), validation: val, key: key(4) });
    expect(h.stopReason).toBe("completed");
    expect(h.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4]);
    expect(h.batches).toHaveLength(5 * 7);
    expect(h.batches[8]).toMatchObject({ step: 8, epoch: 1, batch: 1 });
    const last = h.epochs[4]!;
    expect(last.trainLoss).toBeLessThan(h.epochs[0]!.trainLoss);
    expect(last.valAcc).toBeGreaterThan(0.9);
    expect(last.lr).toBe(0.1);
    expect(last.time).toBeGreaterThan(0);
    expect(last.batches).toBe(7);
    expect(JSON.parse(JSON.stringify(h))).toEqual(h);
    const r = evaluate(model, val);
    expect(r.accuracy).toBe(last.valAcc);
    expect(model.training).toBe(true);
  });

  it("the same key gives the same history", async () => {
    const go = async () => {
      const m = net();
      return fit(m, blobs(12, 64), { epochs: 2, batchSize: 16, optimizer: new SGD(m.parameters(), { lr: 0.1 }), key: key(5) });
    };
    const a = await go();
    const b = await go();
    expect(a.batches.map((x) => x.loss)).toEqual(b.batches.map((x) => x.loss));
  });

  it("an AbortSignal stops after the current batch and returns the history so far", async () => {
    const m = net();
    const ctl = new AbortController();
    const cb: Callback = { onBatchEnd: (log) => void (log.step === 4 && ctl.abort()) };
    const h = await fit(m, blobs(13, 320), { epochs: 3, batchSize: 32, optimizer: new SGD(m.parameters(), { lr: 0.1 }), callbacks: [cb], signal: ctl.signal, key: key(6) });
    expect(h.stopReason).toBe("aborted");
    expect(h.batches).toHaveLength(5);
    expect(h.epochs).toHaveLength(1);
    expect(h.epochs[0]!.batches).toBe(5);
  });

  it("an abort from outside (a timer) stops between batches", async () => {
    const m = net();
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const h = await fit(m, blobs(14, 320), { epochs: 100000, batchSize: 32, optimizer: new SGD(m.parameters(), { lr: 0.01 }), signal: ctl.signal, key: key(7) });
    expect(h.stopReason).toBe("aborted");
    expect(h.batches.length).toBeGreaterThan(0);
    expect(h.epochs.length).toBeLessThan(100000);
  });

  it("a NaN loss throws naming epoch and batch", async () => {
    const m = net();
    const data = blobs(15, 64);
    const bad = (out: Tensor, y: Tensor) => (y.data[0] === -1 ? out.sum() : out.sum().mul(Number.NaN));
    await expect(fit(m, data, { epochs: 2, batchSize: 16, optimizer: new SGD(m.parameters(), { lr: 0.1 }), loss: bad, key: key(8) }))
      .rejects.toThrow(/loss is NaN at epoch 0, batch 0/);
    const inf = (out: Tensor) => (m.training && out.shape[0] === 16 && (cnt += 1) === 6 ? out.sum().div(0) : out.sum().mul(0));
    let cnt = 0;
    await expect(fit(m, data, { epochs: 2, batchSize: 16, optimizer: new SGD(m.parameters(), { lr: 0.1 }), loss: inf, key: key(8) }))
      .rejects.toThrow(/loss is (-)?Infinity at epoch 1, batch 1/);
  });

  it("callbacks run in order: schedules before the epoch, constraints after each step, early stopping after it", async () => {
    const m = net();
    const drop = m.layers[1] as Dropout;
    const seen: number[] = [];
    const events: string[] = [];
    const order: Callback = {
      onTrainBegin: (p, h) => void events.push(`begin ${JSON.stringify(p)} ${h.epochs.length}`),
      onEpochBegin: (e) => void events.push(`epoch ${e}`),
      onTrainEnd: (h) => void events.push(`end ${h.epochs.length}`),
    };
    const h = await fit(m, blobs(16, 60), {
      epochs: 50,
      batchSize: 16,
      optimizer: new SGD(m.parameters(), { lr: 0.0 }),
      validation: blobs(17, 32),
      callbacks: [scheduleDropout(m, linearSchedule({ from: 0.5, to: 0, epochs: 4 })), { onEpochBegin: () => void seen.push(drop.p) }, maxNorm(m, 0.5), earlyStopping(m, { patience: 2 }), order],
      key: key(9),
    });
    expect(events).toEqual([`begin ${JSON.stringify({ epochs: 50, batchSize: 16, batchesPerEpoch: 4, samples: 60 })} 0`, "epoch 0", "epoch 1", "epoch 2", "end 3"]);
    // lr 0 → validation loss never improves after epoch 0: stops after epoch 2.
    expect(h.stopReason).toBe("callback");
    expect(h.epochs).toHaveLength(3);
    expect(seen).toEqual([0.5, 0.375, 0.25]);
    const w = (m.layers[0] as Linear).weight;
    for (let r = 0; r < 16; r++) {
      let s = 0;
      for (let j = 0; j < 4; j++) s += w.data[r * 4 + j]! ** 2;
      expect(Math.sqrt(s)).toBeLessThanOrEqual(0.5 + 1e-6);
    }
  });

  it("early stopping restores the best parameters", async () => {
    const m = new Sequential(new Linear(4, 2, { key: key(20) }));
    const val = blobs(18, 64);
    let best = Infinity;
    let bestW: Float32Array | null = null;
    const track: Callback = {
      onEpochEnd: (log) => {
        if (log.valLoss! < best) {
          best = log.valLoss!;
          bestW = (m.layers[0] as Linear).weight.data.slice();
        }
      },
    };
    // A large learning rate makes the validation loss bounce.
    await fit(m, blobs(19, 64), { epochs: 12, batchSize: 8, optimizer: new SGD(m.parameters(), { lr: 3 }), validation: val, callbacks: [track, earlyStopping(m, { patience: 100 })], key: key(21) });
    expect((m.layers[0] as Linear).weight.data).toEqual(bestW);
    expect(evaluate(m, val).loss).toBeCloseTo(best, 5);
  });

  it("evaluate uses running statistics and restores training flags", () => {
    const m = new Sequential(new Linear(4, 3, { key: key(22) }), new BatchNorm1d(3), new Linear(3, 2, { key: key(23) }));
    const bn = m.layers[1] as BatchNorm1d;
    const before = bn.runningMean.data.slice();
    evaluate(m, blobs(20, 50));
    expect(bn.runningMean.data).toEqual(before);
    expect(m.modules().every((x) => x.training)).toBe(true);
  });

  it("checks its inputs", async () => {
    const m = net();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    await expect(fit(m, { x: randn(key(1), [4, 4]), y: new Tensor(new Float32Array(3), [3]) }, { epochs: 1, optimizer: opt })).rejects.toThrow(/same non-zero first dimension/);
    await expect(fit(m, blobs(1, 4), { epochs: 1, batchSize: 0, optimizer: opt })).rejects.toThrow(/batchSize/);
  });
});
