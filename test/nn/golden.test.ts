/**
 * Golden numbers from PyTorch 1.13 (fixtures/make_golden.py): with PyTorch's parameters loaded by name, the
 * forward values and the gradients of sum(out·R) match for Linear, Conv2d, LSTM and GRU. Tolerance 1e-4 relative
 * to the largest magnitude (float32 sums of a few dozen terms).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/tensor/index.js";
import { Linear, Conv2d } from "../../src/nn/layers.js";
import { LSTM, GRU } from "../../src/nn/rnn.js";
import type { Module } from "../../src/nn/module.js";
import { key } from "../../src/random/keys.js";

interface Flat { shape: number[]; data: number[] }
interface Case {
  name: string;
  args: Record<string, number>;
  params: Record<string, Flat>;
  input: Flat;
  outputs: Flat[];
  upstream: number[][];
  inputGrad: number[];
  paramGrads: Record<string, number[]>;
}
const golden = JSON.parse(readFileSync(new URL("./fixtures/golden.json", import.meta.url), "utf8")) as { cases: Case[] };

const t = (f: Flat, grad = false) => new Tensor(Float32Array.from(f.data), f.shape, grad);

function close(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst / scale, what).toBeLessThan(1e-4);
}

function build(c: Case): { m: Module; run: (x: Tensor) => Tensor[] } {
  const a = c.args;
  const k = { key: key(0) };
  if (c.name === "Linear") {
    const m = new Linear(a.in!, a.out!, k);
    return { m, run: (x) => [m.forward(x)] };
  }
  if (c.name.startsWith("Conv2d")) {
    const m = new Conv2d(a.in!, a.out!, a.k!, { stride: a.stride!, padding: a.padding!, ...k });
    return { m, run: (x) => [m.forward(x)] };
  }
  if (c.name === "LSTM") {
    const m = new LSTM(a.in!, a.hidden!, { numLayers: a.layers!, ...k });
    return { m, run: (x) => { const r = m.forward(x); return [r.output, r.h, r.c!]; } };
  }
  const m = new GRU(a.in!, a.hidden!, { numLayers: a.layers!, ...k });
  return { m, run: (x) => { const r = m.forward(x); return [r.output, r.h]; } };
}

describe("golden values from PyTorch", () => {
  for (const c of golden.cases) {
    it(`${c.name}: forward and backward`, () => {
      const { m, run } = build(c);
      m.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([n, f]) => [n, t(f)])));
      const x = t(c.input, true);
      const outs = run(x);
      outs.forEach((o, i) => {
        expect(o.shape, `output ${i} shape`).toEqual(c.outputs[i]!.shape);
        close(o.data, c.outputs[i]!.data, `output ${i}`);
      });
      let loss = outs[0]!.mul(new Tensor(Float32Array.from(c.upstream[0]!), outs[0]!.shape)).sum();
      for (let i = 1; i < outs.length; i++) loss = loss.add(outs[i]!.mul(new Tensor(Float32Array.from(c.upstream[i]!), outs[i]!.shape)).sum());
      loss.backward();
      close(x.grad!.data, c.inputGrad, "input gradient");
      const params = Object.fromEntries(m.namedParameters());
      expect(Object.keys(params).sort()).toEqual(Object.keys(c.paramGrads).sort());
      for (const [n, g] of Object.entries(c.paramGrads)) close(params[n]!.grad!.data, g, `gradient of ${n}`);
    });
  }
});
