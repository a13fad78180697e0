// The sparse-operand matrix product (src/backend/assembly/sparse.ts): the same floats as the dense gemm for
// every transpose, accumulate, K blocking, fused epilogue and thread count, and close to a float64 product.
import { afterAll, describe, expect, it } from "vitest";
import * as B from "../../src/backend/index.js";
import { data } from "./helpers.js";

const backends = B.availableBackends();
const wasm = backends.filter((b) => b !== "js");
const DEFAULT_DENSITY = B.setSparseDensity(0.5);

afterAll(() => {
  B.setSparseDensity(DEFAULT_DENSITY);
  B.shutdown();
});

/** n floats in [-1, 1) of which about a fraction `density` are non-zero; every other zero is -0. */
function sparse(n: number, density: number, seed: number): Float32Array {
  const a = data(n, seed);
  const u = data(n, seed + 7919);
  for (let i = 0; i < n; i++) if ((u[i]! + 1) / 2 >= density) a[i] = i % 2 ? -0 : 0;
  return a;
}

// Float64 products by operands' description: the same operands recur for every backend and thread count.
const products = new Map<string, Float64Array>();

/** c (+ c0 when given) = op(a)·op(b) in float64, as float64, computed once per `key`. */
function product(key: string, a: Float32Array, b: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean, c0: Float32Array | null): Float64Array {
  const known = products.get(key);
  if (known) return known;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = c0 ? c0[i * n + j]! : 0;
      for (let p = 0; p < k; p++) s += a[transA ? p * m + i : i * k + p]! * b[transB ? j * k + p : p * n + j]!;
      out[i * n + j] = s;
    }
  }
  products.set(key, out);
  return out;
}

/** Largest |x - y| over the bound k · 2^-22 · (1 + |y|) for float32 sums of k products of |v| ≤ 1. */
function worstError(x: Float32Array, y: Float64Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (Math.max(k, 1) * 2 ** -22 * (1 + Math.abs(y[i]!))));
  return worst;
}

/** The first index where x and y differ under === (so 0 and -0 are equal, NaN is never), or -1. */
function firstDifference(x: Float32Array, y: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (!(x[i] === y[i])) return i;
  return -1;
}

/** Runs fn with the sparse path forced on (density limit 1) and off (0); returns both outputs. */
function bothPaths(fn: () => Float32Array): [sparsePath: Float32Array, densePath: Float32Array] {
  B.setSparseDensity(1);
  const s = fn();
  B.setSparseDensity(0);
  const d = fn();
  B.setSparseDensity(DEFAULT_DENSITY);
  return [s, d];
}

/** fn's output; on a WebAssembly backend, checked to be the same on the sparse and the dense path. */
function samePaths(name: B.BackendName, fn: () => Float32Array, where: string): Float32Array {
  if (name === "js") return fn();
  const [s, d] = bothPaths(fn);
  const i = firstDifference(s, d);
  if (i >= 0) expect.fail(`${where}: element ${i} is ${s[i]} on the sparse path, ${d[i]} on the dense one`);
  return s;
}

// [m, n, k, densities]: edge sizes; several K blocks (k > 1024); the MLP's shapes, which split over threads by
// column strips; a narrow product that splits by rows.
const SHAPES: [number, number, number, number[]][] = [
  [1, 1, 1, [0, 1]],
  [3, 5, 7, [0.3, 1]],
  [17, 49, 33, [0, 0.1, 0.5, 1]],
  [37, 97, 2100, [0.05, 0.25, 0.9]],
  [100, 800, 800, [0.25]],
  [1000, 40, 1000, [0.25]],
];

for (const name of backends) {
  describe(`backend ${name}`, () => {
    for (const threads of name === "js" ? [1] : [1, 2]) {
      it(`matmul with a sparse left operand matches float64 and gives the same floats on the sparse and the dense path (${threads} thread${threads > 1 ? "s" : ""})`, () => {
        B.useBackend(name, threads);
        let seed = 1;
        for (const [m, n, k, densities] of SHAPES) {
          for (const density of densities) {
            for (const transA of [false, true]) for (const transB of [false, true]) for (const acc of [false, true]) {
              const a = sparse(m * k, density, seed++), b = data(k * n, seed++), c0 = data(m * n, seed++);
              const run = (): Float32Array => {
                const c = c0.slice();
                B.matmul(a, b, c, m, n, k, transA, transB, acc);
                return c;
              };
              const where = `m=${m} n=${n} k=${k} density=${density} transA=${transA} transB=${transB} acc=${acc}`;
              const s = samePaths(name, run, where);
              // The float64 product only once per shape and density: it is the slow part.
              if (transA === transB && acc === transA) {
                const e = worstError(s, product(where, a, b, m, n, k, transA, transB, acc ? c0 : null), k + 1);
                if (e > 1) expect.fail(`${where}: error ${e} against float64`);
              }
            }
          }
        }
      });

      it(`linear with a sparse input fuses bias and every activation, the same on both paths and close to float64 (${threads} thread${threads > 1 ? "s" : ""})`, () => {
        B.useBackend(name, threads);
        for (const [batch, inF, outF] of [[3, 17, 129], [100, 800, 800], [37, 2100, 50]] as const) {
          const x = sparse(batch * inF, 0.25, inF), w = data(outF * inF, 2);
          const bias = data(outF, 3);
          for (const act of ["none", "relu", "tanh", "sigmoid"] as const) {
            for (const withBias of [false, true]) {
              const run = (): Float32Array => {
                const out = new Float32Array(batch * outF);
                B.linear(x, w, withBias ? bias : null, out, batch, inF, outF, act);
                return out;
              };
              const s = samePaths(name, run, `${batch}×${inF}→${outF} ${act} bias=${withBias}`);
              const z = product(`linear ${batch}×${inF}→${outF}`, x, w, batch, outF, inF, false, true, null).slice();
              for (let r = 0; r < batch; r++) {
                for (let j = 0; j < outF; j++) {
                  const v = z[r * outF + j]! + (withBias ? bias[j]! : 0);
                  z[r * outF + j] = act === "relu" ? Math.max(v, 0) : act === "tanh" ? Math.tanh(v) : act === "sigmoid" ? 1 / (1 + Math.exp(-v)) : v;
                }
              }
              const e = worstError(s, z, inF + 1);
              if (e > 1) expect.fail(`${batch}×${inF}→${outF} ${act} bias=${withBias}: error ${e} against float64`);
            }
          }
        }
      });
    }
  });
}

describe.each(wasm)("backend %s, operands in the backend's memory", (name) => {
  it("gives the same floats on both paths", () => {
    B.useBackend(name, 2);
    const [m, n, k] = [100, 784, 100];
    const a = B.allocate(m * k), b = B.allocate(k * n), c = B.allocate(m * n);
    a.set(sparse(m * k, 0.2, 5));
    b.set(data(k * n, 6));
    const [s, d] = bothPaths(() => {
      B.matmul(a, b, c, m, n, k, true, false);
      return c.slice();
    });
    expect(firstDifference(s, d)).toBe(-1);
    expect(worstError(s, product("resident", a, b, m, n, k, true, false, null), k)).toBeLessThan(1);
  });

  it("skips a zero of A against an infinity of B, where the dense path gives NaN (documented)", () => {
    B.useBackend(name, 1);
    const a = new Float32Array([0, 2]), b = new Float32Array([Infinity, 3]), c = new Float32Array(1);
    const [s, d] = bothPaths(() => {
      B.matmul(a, b, c, 1, 1, 2);
      return c.slice();
    });
    expect(s[0]).toBe(6);
    expect(d[0]).toBeNaN();
  });
});

describe("setSparseDensity", () => {
  it("returns the previous setting and rejects anything but a fraction", () => {
    const before = B.setSparseDensity(0.3);
    expect(B.setSparseDensity(before)).toBe(0.3);
    for (const bad of [-0.1, 1.5, Number.NaN]) expect(() => B.setSparseDensity(bad)).toThrow(/fraction in \[0, 1\]/);
  });
});
