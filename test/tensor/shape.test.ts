import { describe, expect, it } from "vitest";
import { broadcastShapes, expandTo, plan, reduceTo, sizeOf, type Shape } from "../../src/tensor/shape.js";
import * as T from "../../src/tensor/index.js";
import { key } from "../../src/random/keys.js";

/** Flat index into `inp` (broadcast to `out`) of the output element with flat index e. */
function naiveIndex(e: number, out: Shape, inp: Shape): number {
  let idx = 0;
  let stride = 1;
  for (let d = out.length - 1; d >= 0; d--) {
    const c = e % out[d]!;
    e = Math.floor(e / out[d]!);
    const di = d - (out.length - inp.length);
    if (di >= 0) {
      if (inp[di] !== 1) idx += c * stride;
      stride *= inp[di]!;
    }
  }
  return idx;
}

const pairs: [Shape, Shape][] = [
  [[2, 3], [2, 3]], [[4, 3], [3]], [[2, 1], [1, 3]], [[4, 1, 3], [2, 1]], [[2, 3, 4], []], [[], [5]],
  [[3, 1, 4, 1], [1, 2, 1, 5]], [[1, 1], [1]], [[2, 3, 4], [3, 1]], [[0, 3], [3]], [[5, 1, 1], [1, 6, 7]],
];

describe("broadcast plans", () => {
  it.each(pairs)("%j with %j matches naive index arithmetic", (a, b) => {
    const out = broadcastShapes(a, b, "test");
    const p = plan(out, a, b);
    expect(p.rows * p.len).toBe(sizeOf(out));
    for (let r = 0; r < p.rows; r++) {
      for (let k = 0; k < p.len; k++) {
        const e = r * p.len + k;
        expect(p.aOff[r]! + k * p.sa).toBe(naiveIndex(e, out, a));
        expect(p.bOff[r]! + k * p.sb).toBe(naiveIndex(e, out, b));
      }
    }
  });

  it("merges dimensions into fast paths: same shape and scalars are one row, a bias is one row per sample", () => {
    expect(plan([8, 16, 4], [8, 16, 4], [8, 16, 4])).toMatchObject({ rows: 1, len: 512, sa: 1, sb: 1 });
    expect(plan([8, 16], [8, 16], [])).toMatchObject({ rows: 1, len: 128, sa: 1, sb: 0 });
    expect(plan([8, 16], [8, 16], [16])).toMatchObject({ rows: 8, len: 16, sa: 1, sb: 1 });
  });

  it("reduceTo and expandTo are adjoint sums and copies", () => {
    for (const [a, b] of pairs) {
      const out = broadcastShapes(a, b, "test");
      const g = T.randn(key(1), out).data;
      const r = reduceTo(g, out, a);
      const want = new Float64Array(sizeOf(a));
      for (let e = 0; e < g.length; e++) want[naiveIndex(e, out, a)] += g[e]!;
      r.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
      const x = T.randn(key(2), a).data;
      const ex = expandTo(x, a, out);
      ex.forEach((v, e) => expect(v).toBe(x[naiveIndex(e, out, a)]));
    }
  });
});
