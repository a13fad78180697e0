/** Recurrent regularizers on LSTM/GRU: zoneout limits and expectation, variational masks, recurrent dropout, records. */
import { describe, expect, it } from "vitest";
import { Tensor, randn, zeros } from "../../src/tensor/index.js";
import { add, mul } from "../../src/tensor/ops.js";
import { reshape, slice } from "../../src/tensor/shapeops.js";
import { key } from "../../src/random/keys.js";
import { LSTM, GRU, LSTMCell, GRUCell } from "../../src/nn/rnn.js";

const [T, B, F, H] = [6, 3, 4, 5];

function copyWeights(from: LSTM | GRU, to: LSTM | GRU): void {
  to.loadStateDict(from.stateDict());
}

function step(x: Tensor, t: number): Tensor {
  return reshape(slice(x, [[t, t + 1]]), [x.shape[1]!, x.shape[2]!]);
}

function within4Sigma(observed: number, p: number, n: number): void {
  expect(Math.abs(observed - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / n));
}

describe("zoneout", () => {
  it("zoneout 0 equals the plain LSTM", () => {
    const x = randn(key(1), [T, B, F]);
    const plain = new LSTM(F, H, { key: key(2), numLayers: 2 });
    const z0 = new LSTM(F, H, { key: key(2), numLayers: 2, zoneout: { cell: 0, hidden: 0 } });
    const a = plain.forward(x);
    const b = z0.forward(x);
    expect(b.output.data).toEqual(a.output.data);
    expect(b.c!.data).toEqual(a.c!.data);
  });

  it("zoneout 1 freezes h and c at their initial values", () => {
    const x = randn(key(3), [T, B, F]);
    const h0 = randn(key(4), [1, B, H]);
    const c0 = randn(key(5), [1, B, H]);
    const m = new LSTM(F, H, { key: key(6), zoneout: { cell: 1, hidden: 1 } });
    for (const mode of [true, false]) {
      m.train(mode);
      const r = m.forward(x, { h: h0, c: c0 });
      for (let t = 0; t < T; t++) expect(step(r.output, t).data).toEqual(h0.data);
      expect(r.h.data).toEqual(h0.data);
      expect(r.c!.data).toEqual(c0.data);
    }
    const g = new GRU(F, H, { key: key(6), zoneout: { hidden: 1 } });
    expect(g.forward(x, { h: h0 }).h.data).toEqual(h0.data);
  });

  it("evaluation uses the expectation z·previous + (1 − z)·new", () => {
    const [zc, zh] = [0.3, 0.6];
    const x = randn(key(7), [T, B, F]);
    const m = new LSTM(F, H, { key: key(8), zoneout: { cell: zc, hidden: zh } }).eval();
    const cell = new LSTMCell(F, H, { key: key(0) });
    cell.loadStateDict({
      weight_ih: m.stateDict().weight_ih_l0!, weight_hh: m.stateDict().weight_hh_l0!,
      bias_ih: m.stateDict().bias_ih_l0!, bias_hh: m.stateDict().bias_hh_l0!,
    });
    let h = zeros([B, H]);
    let c = zeros([B, H]);
    const r = m.forward(x);
    for (let t = 0; t < T; t++) {
      const n = cell.forward(step(x, t), { h, c });
      c = add(mul(c, zc), mul(n.c, 1 - zc));
      h = add(mul(h, zh), mul(n.h, 1 - zh));
      const got = step(r.output, t).data;
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(h.data[i]!, 5);
    }
  });

  it("training keeps the previous value with probability z per unit and step, separately for h and c", () => {
    const [b, h, t] = [100, 100, 10];
    const m = new LSTM(2, h, { key: key(9), zoneout: { cell: 0.5, hidden: 0.15 }, maskKey: key(10), recordMasks: true });
    m.forward(randn(key(11), [t, b, 2]));
    const count = (name: string) => {
      const masks = m.lastMasks[name]!;
      expect(masks).toHaveLength(t);
      let ones = 0;
      for (const mk of masks) for (const v of mk.data) ones += v;
      return ones / (b * h * t);
    };
    within4Sigma(count("l0.zoneout.c"), 0.5, b * h * t);
    within4Sigma(count("l0.zoneout.h"), 0.15, b * h * t);
    expect(m.lastMasks["l0.zoneout.c"]![0]!.data).not.toEqual(m.lastMasks["l0.zoneout.c"]![1]!.data);
  });
});

describe("variational dropout", () => {
  it("one input mask and one recurrent mask per sequence, reused at every step", () => {
    const p = 0.5;
    const x = randn(key(12), [T, B, F]);
    const h0 = randn(key(13), [1, B, H]);
    const c0 = randn(key(14), [1, B, H]);
    const m = new LSTM(F, H, { key: key(15), variational: { input: p, recurrent: p }, maskKey: key(16), recordMasks: true });
    const r = m.forward(x, { h: h0, c: c0 });
    const mi = m.lastMasks["l0.input"]!;
    const mr = m.lastMasks["l0.recurrent"]!;
    expect(mi).toHaveLength(1);
    expect(mr).toHaveLength(1);
    expect(mi[0]!.shape).toEqual([B, F]);
    expect(mr[0]!.shape).toEqual([B, H]);
    // The same computation by hand with the two fixed masks at every step.
    const sd = m.stateDict();
    const cell = new LSTMCell(F, H, { key: key(0) });
    cell.loadStateDict({ weight_ih: sd.weight_ih_l0!, weight_hh: sd.weight_hh_l0!, bias_ih: sd.bias_ih_l0!, bias_hh: sd.bias_hh_l0! });
    const scaled = (t: Tensor) => new Tensor(t.data.map((v) => v / (1 - p)), t.shape);
    let h = reshape(h0, [B, H]);
    let c = reshape(c0, [B, H]);
    for (let t = 0; t < T; t++) {
      // h enters the recurrent product masked, but the cell state update uses the unmasked c.
      const n = cell.forward(mul(step(x, t), scaled(mi[0]!)), { h: mul(h, scaled(mr[0]!)), c });
      h = n.h;
      c = n.c;
      const got = step(r.output, t).data;
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(h.data[i]!, 5);
    }
  });

  it("GRU: the variational input mask equals running the eval GRU on the masked sequence", () => {
    const p = 0.3;
    const x = randn(key(17), [T, B, F]);
    const g = new GRU(F, H, { key: key(18), variational: { input: p }, maskKey: key(19), recordMasks: true });
    const r = g.forward(x);
    const mask = g.lastMasks["l0.input"]![0]!;
    const plain = new GRU(F, H, { key: key(0) });
    copyWeights(g, plain);
    const xm = mul(x, reshape(new Tensor(mask.data.map((v) => v / (1 - p)), mask.shape), [1, B, F]));
    const ref = plain.eval().forward(xm);
    for (let i = 0; i < r.output.size; i++) expect(r.output.data[i]).toBeCloseTo(ref.output.data[i]!, 5);
    within4Sigma(1 - mask.data.reduce((a, v) => a + v, 0) / mask.size, p, mask.size);
  });
});

describe("recurrent dropout and dropout between layers", () => {
  it("Semeniuta masks are fresh per step on the update; dropout between layers only under the last layer", () => {
    const x = randn(key(20), [T, B, F]);
    const m = new LSTM(F, H, { key: key(21), numLayers: 2, dropout: 0.5, recurrentDropout: 0.25, maskKey: key(22), recordMasks: true });
    m.forward(x);
    expect(m.lastMasks["l0.update"]).toHaveLength(T);
    expect(m.lastMasks["l1.update"]).toHaveLength(T);
    expect(m.lastMasks["l0.update"]![0]!.data).not.toEqual(m.lastMasks["l0.update"]![1]!.data);
    expect(m.lastMasks["l0.between"]![0]!.shape).toEqual([T, B, H]);
    expect(m.lastMasks["l1.between"]).toBeUndefined();
    // With the update dropped everywhere (LSTM c = f·c, GRU h = z·h), a zero initial state stays zero.
    const all = new GRU(F, H, { key: key(23), recurrentDropout: 0.999999, maskKey: key(24) });
    const allL = new LSTM(F, H, { key: key(23), recurrentDropout: 0.999999, maskKey: key(24) });
    expect(allL.forward(x).c!.data.every((v) => v === 0)).toBe(true);
    expect(all.forward(x).h.data.every((v) => v === 0)).toBe(true);
    expect(all.eval().forward(x).h.data.some((v) => v !== 0)).toBe(true);
  });

  it("a big Semeniuta mask drops at rate p", () => {
    const m = new GRU(2, 200, { key: key(25), recurrentDropout: 0.3, maskKey: key(26), recordMasks: true });
    m.forward(randn(key(27), [5, 100, 2]));
    let zeros = 0;
    for (const mk of m.lastMasks["l0.update"]!) for (const v of mk.data) if (v === 0) zeros++;
    within4Sigma(zeros / 1e5, 0.3, 1e5);
  });

  it("eval mode draws nothing and is deterministic", () => {
    const x = randn(key(28), [T, B, F]);
    const m = new LSTM(F, H, { key: key(29), numLayers: 2, dropout: 0.5, variational: { input: 0.5, recurrent: 0.5 }, recurrentDropout: 0.5 }).eval();
    const plain = new LSTM(F, H, { key: key(29), numLayers: 2 });
    expect(m.forward(x).output.data).toEqual(plain.forward(x).output.data);
  });

  it("GRUCell and the GRU layer agree step by step", () => {
    const x = randn(key(30), [T, B, F]);
    const g = new GRU(F, H, { key: key(31) });
    const cell = new GRUCell(F, H, { key: key(0) });
    const sd = g.stateDict();
    cell.loadStateDict({ weight_ih: sd.weight_ih_l0!, weight_hh: sd.weight_hh_l0!, bias_ih: sd.bias_ih_l0!, bias_hh: sd.bias_hh_l0! });
    const r = g.forward(x);
    let h = zeros([B, H]);
    for (let t = 0; t < T; t++) h = cell.forward(step(x, t), h);
    for (let i = 0; i < h.size; i++) expect(r.h.data[i]).toBeCloseTo(h.data[i]!, 6);
  });

  it("bad options and inputs are rejected", () => {
    expect(() => new LSTM(F, H, { dropout: 1 })).toThrow(/dropout/);
    expect(() => new LSTM(F, H, { zoneout: { cell: 1.5 } })).toThrow(/zoneout.cell/);
    expect(() => new LSTM(F, H).forward(zeros([T, B, F + 1]))).toThrow(/expected input/);
    expect(() => new LSTM(F, H).forward(zeros([T, B, F]), { h: zeros([2, B, H]) })).toThrow(/initial h/);
  });
});
