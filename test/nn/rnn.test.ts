/**
 * The LSTM's fused regularized step (zoneout, recurrent dropout, variational masks in the backend's cell): the
 * same values and gradients as the step composed from engine ops with the recorded masks, masks found again by
 * a backward that runs after a later pass, and results that do not depend on the worker count.
 */
import { afterAll, describe, expect, it } from "vitest";
import * as backend from "../../src/backend/index.js";
import { Tensor, randn } from "../../src/tensor/index.js";
import { add, mul, sigmoid, tanh } from "../../src/tensor/ops.js";
import { reshape, slice, stack } from "../../src/tensor/shapeops.js";
import { linear } from "../../src/tensor/layers.js";
import { key } from "../../src/random/keys.js";
import { LSTM, type LSTMOptions } from "../../src/nn/rnn.js";

afterAll(() => backend.useBackend(backend.availableBackends()[0]!));

const ALL: LSTMOptions = { numLayers: 2, variational: { input: 0.2, recurrent: 0.3 }, recurrentDropout: 0.25, zoneout: { cell: 0.4, hidden: 0.2 } };

/** A loss that reads every output, the final h and the final c. */
function lossOf(r: { output: Tensor; h: Tensor; c?: Tensor }): Tensor {
  return add(add(mul(r.output, r.output).sum(), r.h.sum()), mul(r.c!, 0.5).sum());
}

function grads(m: LSTM): Float32Array[] {
  return m.parameters().map((p) => p.grad!.data.slice());
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  const scale = Math.max(1, ...Array.from(b, Math.abs));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst / scale, what).toBeLessThan(1e-5);
}

/** The regularized LSTM composed from engine ops, with the masks m recorded by the layer's last pass. */
function composed(m: LSTM, x: Tensor, o: Required<Pick<LSTMOptions, "variational" | "recurrentDropout" | "zoneout">>): { output: Tensor; h: Tensor; c: Tensor } {
  const [T, B] = x.shape as [number, number];
  const H = m.hiddenSize;
  const p = Object.fromEntries(m.namedParameters());
  const masks = m.lastMasks;
  const scaled = (t: Tensor, rate: number) => new Tensor(t.data.map((v) => v / (1 - rate)), t.shape);
  const not = (t: Tensor) => new Tensor(t.data.map((v) => 1 - v), t.shape);
  let seq = x;
  const hs: Tensor[] = [], cs: Tensor[] = [];
  for (let l = 0; l < m.numLayers; l++) {
    const F = seq.shape[2]!;
    seq = mul(seq, reshape(scaled(masks[`l${l}.input`]![0]!, o.variational.input!), [1, B, F]));
    const rec = scaled(masks[`l${l}.recurrent`]![0]!, o.variational.recurrent!);
    let h = new Tensor(new Float32Array(B * H), [B, H]);
    let c = new Tensor(new Float32Array(B * H), [B, H]);
    const outs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const xt = reshape(slice(seq, [[t, t + 1]]), [B, F]);
      const gates = add(linear(xt, p[`weight_ih_l${l}`]!, p[`bias_ih_l${l}`]!), linear(mul(h, rec), p[`weight_hh_l${l}`]!, p[`bias_hh_l${l}`]!));
      const gate = (k: number) => slice(gates, [null, [k * H, (k + 1) * H]]);
      const g = mul(tanh(gate(2)), scaled(masks[`l${l}.update`]![t]!, o.recurrentDropout));
      const cNew = add(mul(sigmoid(gate(1)), c), mul(sigmoid(gate(0)), g));
      const hNew = mul(sigmoid(gate(3)), tanh(cNew));
      const zc = masks[`l${l}.zoneout.c`]![t]!, zh = masks[`l${l}.zoneout.h`]![t]!;
      c = add(mul(c, zc), mul(cNew, not(zc)));
      h = add(mul(h, zh), mul(hNew, not(zh)));
      outs.push(h);
    }
    hs.push(h);
    cs.push(c);
    seq = stack(outs, 0);
  }
  return { output: seq, h: stack(hs, 0), c: stack(cs, 0) };
}

describe("LSTM fused regularized step", () => {
  it("matches the step composed from engine ops with the recorded masks, values and gradients", () => {
    const [T, B, F, H] = [7, 3, 4, 8];
    const m = new LSTM(F, H, { ...ALL, key: key(1), maskKey: key(2), recordMasks: true });
    const x = randn(key(3), [T, B, F]);
    const r = m.forward(x);
    lossOf(r).backward();
    const fused = grads(m);
    m.zeroGrad();
    const ref = composed(m, x, ALL as Required<LSTMOptions>);
    lossOf(ref).backward();
    close(r.output.data, ref.output.data, "output");
    close(r.c!.data, ref.c.data, "c");
    grads(m).forEach((g, i) => close(fused[i]!, g, `gradient of ${m.namedParameters()[i]![0]}`));
  });

  it("a backward after a later training pass draws its masks again: the same gradients", () => {
    const [T, B, F, H] = [5, 4, 3, 8];
    const x = randn(key(4), [T, B, F]);
    const direct = new LSTM(F, H, { ...ALL, key: key(5), maskKey: key(6) });
    lossOf(direct.forward(x)).backward();
    const late = new LSTM(F, H, { ...ALL, key: key(5), maskKey: key(6) });
    const first = late.forward(x);
    late.forward(x); // draws the next pass's masks over the buffers
    lossOf(first).backward();
    grads(late).forEach((g, i) => expect(g, `gradient ${i}`).toEqual(grads(direct)[i]));
  });

  it("gives bit-identical outputs and gradients on 1 and 2 workers", () => {
    // 64 × 256 units: large enough for the cell to be split over the workers.
    const [T, B, F, H] = [3, 64, 5, 256];
    const x = randn(key(7), [T, B, F]);
    const run = (threads: number) => {
      backend.useBackend(backend.availableBackends()[0]!, threads);
      const m = new LSTM(F, H, { ...ALL, key: key(8), maskKey: key(9) });
      const r = m.forward(x);
      lossOf(r).backward();
      return [r.output.data, r.c!.data, ...grads(m)];
    };
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const one = run(1), two = run(2);
    two.forEach((a, i) => expect(bytes(a).equals(bytes(one[i]!)), `array ${i}`).toBe(true));
  });
});
