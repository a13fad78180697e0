// Every backend kernel against the scalar reference, for each backend forced in turn.
import { afterAll, describe, expect, it } from "vitest";
import * as B from "../../src/backend/index.js";
import * as R from "../../src/backend/reference.js";
import { bitDiff, data } from "./helpers.js";

const backends = B.availableBackends();
const SIZES = [1, 3, 17, 129];

afterAll(() => B.shutdown());

it("offers both WebAssembly backends on this runtime", () => {
  // Node 20 needs the relaxed-SIMD V8 flag, which the backend sets itself; Node >= 22 has it on by default.
  expect(backends).toEqual(["relaxed", "simd", "js"]);
});

/** Largest |x - y| divided by the bound k · 2^-22 · (1 + |x|) for float32 sums of k products of |v| ≤ 1. */
function worstError(x: Float32Array, y: Float32Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (Math.max(k, 1) * 2 ** -22 * (1 + Math.abs(x[i]!))));
  }
  return worst;
}

for (const name of backends) {
  describe(`backend ${name}`, () => {
    // Both operand paths: arrays copied into the backend's memory, and arrays allocated in it.
    for (const resident of [false, true]) {
      const arr = (n: number, seed: number): Float32Array => {
        const a = resident ? B.allocate(n) : new Float32Array(n);
        a.set(data(n, seed));
        return a;
      };
      const where = resident ? "resident" : "copied";

      it(`matmul matches the reference for every transpose and accumulate (${where})`, () => {
        B.useBackend(name, 2);
        let seed = 1;
        for (const m of SIZES) for (const n of SIZES) for (const k of [1, 17, 129]) {
          for (const transA of [false, true]) for (const transB of [false, true]) for (const acc of [false, true]) {
            const a = arr(m * k, seed++), b = arr(k * n, seed++);
            const want = data(m * n, seed++);
            const got = arr(m * n, 0);
            got.set(want);
            R.matmul(a, b, want, m, n, k, transA, transB, acc);
            B.matmul(a, b, got, m, n, k, transA, transB, acc);
            const e = worstError(want, got, k);
            if (e > 1) expect.fail(`m=${m} n=${n} k=${k} transA=${transA} transB=${transB} acc=${acc}: error ${e}`);
          }
        }
      });

      it(`matmul of a shape split over the pool matches (${where})`, () => {
        B.useBackend(name, 2);
        // The last shape spans several K blocks, so partial sums are added into C block by block.
        for (const [m, n, k] of [[129, 301, 257], [100, 800, 784], [300, 10, 800], [37, 45, 2100]] as const) {
          for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
            const a = arr(m * k, m), b = arr(k * n, n);
            const want = new Float32Array(m * n), got = arr(m * n, 0);
            R.matmul(a, b, want, m, n, k, transA, transB);
            B.matmul(a, b, got, m, n, k, transA, transB);
            expect(worstError(want, got, k)).toBeLessThan(1);
          }
        }
      });

      it(`linear fuses bias and every activation (${where})`, () => {
        B.useBackend(name, 2);
        for (const [batch, inF, outF] of [[1, 1, 1], [3, 17, 129], [100, 784, 80], [17, 129, 3]] as const) {
          for (const act of ["none", "relu", "tanh", "sigmoid"] as const) {
            for (const withBias of [false, true]) {
              const x = arr(batch * inF, 3), w = arr(outF * inF, 4), bias = withBias ? arr(outF, 5) : null;
              const want = new Float32Array(batch * outF), got = arr(batch * outF, 0);
              R.linear(x, w, bias, want, batch, inF, outF, act);
              B.linear(x, w, bias, got, batch, inF, outF, act);
              expect(worstError(want, got, inF + 1)).toBeLessThan(1);
            }
          }
        }
      });

      it(`dropout masks are bit-identical to the reference (${where})`, () => {
        B.useBackend(name, 2);
        // Unaligned offsets, a counter past 2^32 blocks, a keep probability with bits below 2^-24, and a
        // scale that is not a float32 (so the double-precision product matters).
        for (const [n, offset, keep] of [[1, 0, 0.5], [3, 5, 0.9], [17, 2 ** 34 + 3, 0.1], [129, 7, 0.8], [40_003, 11, 0.3], [70_001, 2 ** 40 - 13, 0.7]] as const) {
          const x = arr(n, 9);
          x[0] = -x[0]!; // negative inputs: a dropped unit is -0, as x · 0 gives
          const out1 = new Float32Array(n), mask1 = new Float32Array(n), keep1 = new Uint8Array(n);
          const out2 = arr(n, 0), mask2 = arr(n, 0), keep2 = new Uint8Array(n);
          R.dropout(0xdeadbeef, 42, offset, keep, 1 / keep, x, out1, mask1, keep1);
          B.dropout(0xdeadbeef, 42, offset, keep, 1 / keep, x, out2, mask2, keep2);
          expect(bitDiff(out1, out2)).toEqual([]);
          expect(bitDiff(mask1, mask2)).toEqual([]);
          expect(keep2).toEqual(keep1);
          // The byte mask says exactly which units the float mask keeps.
          for (let j = 0; j < n; j++) if (keep1[j] !== (mask1[j] !== 0 ? 1 : 0)) expect.fail(`unit ${j}: keep ${keep1[j]}, mask ${mask1[j]}`);
          // Without the float mask, and with a float32 scale (one float32 multiply in the kernel).
          const scale = Math.fround(1 / keep);
          const out3 = new Float32Array(n), out4 = arr(n, 0), keep4 = new Uint8Array(n);
          R.dropout(0xdeadbeef, 42, offset, keep, scale, x, out3, null);
          B.dropout(0xdeadbeef, 42, offset, keep, scale, x, out4, null, keep4);
          expect(bitDiff(out3, out4)).toEqual([]);
          expect(keep4).toEqual(keep1);
        }
      });

      it(`dropoutApply is bit-identical to the reference and to redrawing the mask (${where})`, () => {
        B.useBackend(name, 2);
        for (const [n, keepP] of [[1, 0.5], [17, 0.9], [129, 0.1], [40_003, 0.3], [300_017, 0.5]] as const) {
          const keep = new Uint8Array(n);
          const x = arr(n, 31);
          B.dropout(7, 8, 0, keepP, 2, x, new Float32Array(n), null, keep);
          const g = arr(n, 32);
          g[0] = -g[0]!;
          for (const scale of [1 / keepP, Math.fround(1 / keepP)]) {
            const want = new Float32Array(n), got = arr(n, 0);
            R.dropoutApply(keep, scale, g, want);
            B.dropoutApply(keep, scale, g, got);
            expect(bitDiff(want, got)).toEqual([]);
            // The same as applying dropout with the same key to g.
            const redrawn = new Float32Array(n);
            R.dropout(7, 8, 0, keepP, scale, g, redrawn, null);
            expect(bitDiff(redrawn, got)).toEqual([]);
            // In place (out = g).
            const inPlace = arr(n, 0);
            inPlace.set(g);
            B.dropoutApply(keep, scale, inPlace, inPlace);
            expect(bitDiff(want, inPlace)).toEqual([]);
          }
        }
      });

      it(`zero clears an array (${where})`, () => {
        B.useBackend(name, 2);
        for (const n of [1, 3, 17, 129, 70_001]) {
          const a = arr(n, 33);
          B.zero(a);
          expect(a.every((v) => Object.is(v, 0))).toBe(true);
        }
      });

      it(`im2col and col2im are bit-identical to the reference (${where})`, () => {
        B.useBackend(name, 2);
        for (const [c, h, w, kh, kw, stride, pad] of [[1, 1, 1, 1, 1, 1, 0], [3, 17, 13, 5, 5, 1, 2], [2, 9, 9, 3, 3, 2, 1], [32, 32, 32, 5, 5, 1, 2]] as const) {
          const oh = Math.floor((h + 2 * pad - kh) / stride) + 1, ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
          const x = arr(c * h * w, 11);
          const cols1 = new Float32Array(c * kh * kw * oh * ow), cols2 = arr(cols1.length, 0);
          R.im2col(x, cols1, c, h, w, kh, kw, stride, pad);
          B.im2col(x, cols2, c, h, w, kh, kw, stride, pad);
          expect(bitDiff(cols1, cols2)).toEqual([]);
          const g = arr(cols1.length, 12);
          const dx1 = data(c * h * w, 13), dx2 = arr(c * h * w, 13);
          R.col2im(g, dx1, c, h, w, kh, kw, stride, pad);
          B.col2im(g, dx2, c, h, w, kh, kw, stride, pad);
          expect(bitDiff(dx1, dx2)).toEqual([]);
        }
      });

      it(`conv2d and its backward match the reference; max pooling and row sums are bit-identical (${where})`, () => {
        B.useBackend(name, 2);
        // Stride 1 (straight from padded images): partial tiles of channels and columns, padding beyond k − 1.
        const shapes = [[1, 1, 1, 1, 1, 1, 1, 0], [3, 3, 11, 9, 5, 3, 2, 1], [12, 8, 16, 16, 16, 5, 1, 2], [2, 3, 7, 9, 5, 3, 1, 1], [2, 6, 6, 5, 9, 1, 1, 2], [3, 5, 12, 13, 11, 5, 1, 0]] as const;
        for (const [n, c, h, w, o, k, stride, pad] of shapes) {
          const oh = Math.floor((h + 2 * pad - k) / stride) + 1, ow = Math.floor((w + 2 * pad - k) / stride) + 1;
          const x = arr(n * c * h * w, 21), wt = arr(o * c * k * k, 22), bias = arr(o, 23);
          const y1 = new Float32Array(n * o * oh * ow), y2 = arr(y1.length, 0);
          R.conv2d(x, wt, bias, y1, n, c, h, w, o, k, stride, pad);
          B.conv2d(x, wt, bias, y2, n, c, h, w, o, k, stride, pad);
          expect(worstError(y1, y2, c * k * k + 1)).toBeLessThan(1);
          const g = arr(y1.length, 24);
          const gw1 = data(wt.length, 25), gw2 = arr(wt.length, 25), gx1 = data(x.length, 26), gx2 = arr(x.length, 26);
          R.conv2dBackward(x, wt, g, gw1, gx1, n, c, h, w, o, k, stride, pad, Math.min(n, 8));
          B.conv2dBackward(x, wt, g, gw2, gx2, n, c, h, w, o, k, stride, pad);
          expect(worstError(gw1, gw2, n * oh * ow + 1)).toBeLessThan(1);
          expect(worstError(gx1, gx2, o * k * k + 1)).toBeLessThan(1);
        }
        for (const [planes, h, w, k, stride, pad] of [[1, 1, 1, 1, 1, 0], [6, 9, 7, 3, 2, 1], [64, 32, 32, 2, 2, 0], [5, 7, 11, 2, 2, 0]] as const) {
          const oh = Math.floor((h + 2 * pad - k) / stride) + 1, ow = Math.floor((w + 2 * pad - k) / stride) + 1;
          const x = arr(planes * h * w, 27);
          const out1 = new Float32Array(planes * oh * ow), out2 = arr(out1.length, 0);
          R.maxPool(x, out1, null, null, planes, h, w, oh, ow, k, stride, pad);
          B.maxPool(x, out2, planes, h, w, k, stride, pad);
          expect(bitDiff(out1, out2)).toEqual([]);
          const g = arr(out1.length, 28), dx1 = data(x.length, 29), dx2 = arr(x.length, 29);
          R.maxPool(x, null, g, dx1, planes, h, w, oh, ow, k, stride, pad);
          B.maxPoolBackward(x, g, dx2, planes, h, w, k, stride, pad);
          expect(bitDiff(dx1, dx2)).toEqual([]);
        }
        for (const [rows, cols] of [[1, 1], [5, 7], [300, 1029]] as const) {
          const x = arr(rows * cols, 30);
          for (const acc of [false, true]) {
            const o1 = data(rows, 31), o2 = arr(rows, 31);
            R.rowSums(x, o1, rows, cols, acc);
            B.rowSums(x, o2, rows, cols, acc);
            expect(bitDiff(o1, o2)).toEqual([]);
          }
        }
      });

      it(`stride-1 conv2d and its backward give the bits of im2col, matmul and col2im (${where})`, () => {
        B.useBackend(name, 2);
        // The direct path sums in the order of the per-image products (one K block: c·k·k ≤ 1024).
        for (const [n, c, h, w, o, k, pad] of [[3, 3, 9, 13, 6, 5, 2], [2, 8, 8, 7, 9, 3, 1], [2, 2, 5, 6, 3, 2, 0]] as const) {
          const oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1, l = oh * ow, kk = c * k * k, img = c * h * w;
          const x = arr(n * img, 41), wt = arr(o * kk, 42), bias = arr(o, 43), g = arr(n * o * l, 44);
          const y = arr(n * o * l, 0), gw = arr(o * kk, 46), gx = arr(n * img, 45);
          B.conv2d(x, wt, bias, y, n, c, h, w, o, k, 1, pad);
          B.conv2dBackward(x, wt, g, gw, gx, n, c, h, w, o, k, 1, pad);
          const cols = new Float32Array(kk * l), yb = new Float32Array(o * l), gwAll = data(o * kk, 46);
          const partial = new Float32Array(o * kk), gxWant = data(n * img, 45);
          for (let b = 0; b < n; b++) {
            B.im2col(x.subarray(b * img, (b + 1) * img), cols, c, h, w, k, k, 1, pad);
            B.matmul(wt, cols, yb, o, l, kk);
            for (let j = 0; j < o * l; j++) yb[j] += bias[Math.floor(j / l)]!;
            expect(bitDiff(yb, y.subarray(b * o * l, (b + 1) * o * l))).toEqual([]);
            // One run per image here (n ≤ 8): the image's sum is the run's partial, added to gw in order.
            B.matmul(g.subarray(b * o * l, (b + 1) * o * l), cols, partial, o, kk, l, false, true);
            for (let j = 0; j < o * kk; j++) gwAll[j] += partial[j]!;
            B.matmul(wt, g.subarray(b * o * l, (b + 1) * o * l), cols, kk, l, o, true, false);
            B.col2im(cols, gxWant.subarray(b * img, (b + 1) * img), c, h, w, k, k, 1, pad);
          }
          expect(bitDiff(gwAll, gw)).toEqual([]);
          expect(bitDiff(gxWant, gx)).toEqual([]);
        }
      });

      it(`max pooling picks the reference's maximum among ties, signed zeros and NaN (${where})`, () => {
        B.useBackend(name, 2);
        // Windows of 2×2 (and 3×3 stride 2) over values with many equal maxima, -0 beside 0, and NaN first or later.
        const h = 6, w = 10, planes = 3, pick = [0, -0, 1, -1, 1, NaN, 0.5, -0];
        const x = arr(planes * h * w, 0);
        for (let i = 0; i < x.length; i++) x[i] = pick[(i * 7 + (i >> 3)) % pick.length]!;
        for (const [k, stride, pad] of [[2, 2, 0], [3, 2, 1]] as const) {
          const oh = Math.floor((h + 2 * pad - k) / stride) + 1, ow = Math.floor((w + 2 * pad - k) / stride) + 1;
          const out1 = new Float32Array(planes * oh * ow), out2 = arr(out1.length, 0);
          R.maxPool(x, out1, null, null, planes, h, w, oh, ow, k, stride, pad);
          B.maxPool(x, out2, planes, h, w, k, stride, pad);
          expect(bitDiff(out1, out2)).toEqual([]);
          expect(out1.some(Number.isNaN) && out1.some((v) => Object.is(v, -0))).toBe(true);
          const g = arr(out1.length, 28), dx1 = data(x.length, 29), dx2 = arr(x.length, 29);
          dx1[0] = -0;
          dx2[0] = -0;
          R.maxPool(x, null, g, dx1, planes, h, w, oh, ow, k, stride, pad);
          B.maxPoolBackward(x, g, dx2, planes, h, w, k, stride, pad);
          expect(bitDiff(dx1, dx2)).toEqual([]);
        }
      });

      it(`LSTM cell forward and backward are bit-identical to the reference (${where})`, () => {
        B.useBackend(name, 2);
        for (const [batch, hidden] of [[1, 4], [3, 3], [17, 8], [32, 128], [130, 128]] as const) {
          const n = batch * hidden;
          const gates = arr(4 * n, 41), cPrev = arr(n, 42);
          for (let i = 0; i < gates.length; i++) gates[i] = gates[i]! * 12; // saturating and clamped inputs too
          const want = [new Float32Array(n), new Float32Array(n), new Float32Array(4 * n)];
          const got = [arr(n, 0), arr(n, 0), arr(4 * n, 0)];
          R.lstmForward(gates, cPrev, want[0]!, want[1]!, want[2]!, batch, hidden);
          B.lstmForward(gates, cPrev, got[0]!, got[1]!, got[2]!, batch, hidden);
          for (let i = 0; i < 3; i++) expect(bitDiff(want[i]!, got[i]!), `forward output ${i}`).toEqual([]);
          const dh = arr(n, 43), dc = arr(n, 44);
          const wantB = [new Float32Array(4 * n), new Float32Array(n)], gotB = [arr(4 * n, 0), arr(n, 0)];
          R.lstmBackward(want[2]!, cPrev, want[0]!, dh, dc, wantB[0]!, wantB[1]!, batch, hidden);
          B.lstmBackward(got[2]!, cPrev, got[0]!, dh, dc, gotB[0]!, gotB[1]!, batch, hidden);
          for (let i = 0; i < 2; i++) expect(bitDiff(wantB[i]!, gotB[i]!), `backward output ${i}`).toEqual([]);
          // In place: act over gates, dGates over act, dcPrev over dc.
          const g2 = arr(4 * n, 0), dc2 = arr(n, 0);
          g2.set(gates);
          dc2.set(dc);
          const c2 = arr(n, 0), h2 = arr(n, 0);
          B.lstmForward(g2, cPrev, c2, h2, g2, batch, hidden);
          expect(bitDiff(want[2]!, g2)).toEqual([]);
          B.lstmBackward(g2, cPrev, c2, dh, dc2, g2, dc2, batch, hidden);
          expect(bitDiff(wantB[0]!, g2)).toEqual([]);
          expect(bitDiff(wantB[1]!, dc2)).toEqual([]);
        }
      });

      it(`elementwise kernels and reductions are bit-identical to the reference (${where})`, () => {
        B.useBackend(name, 2);
        for (const n of [...SIZES, 300_001]) {
          const x = arr(n, 21), y = arr(n, 22);
          const check = (f: (o: Float32Array) => void, g: (o: Float32Array) => void, init = 23): void => {
            const want = data(n, init), got = arr(n, init);
            f(want);
            g(got);
            expect(bitDiff(want, got)).toEqual([]);
          };
          check((o) => R.relu(x, o), (o) => B.relu(x, o));
          check((o) => R.reluBackward(y, x, o), (o) => B.reluBackward(y, x, o));
          for (const op of ["add", "sub", "mul"] as const) check((o) => R.binary(op, x, y, o), (o) => B.binary(op, x, y, o));
          check((o) => R.axpy(-0.37, x, o), (o) => B.axpy(-0.37, x, o));
          // Momentum SGD updates w and v together.
          const w1 = data(n, 24), v1 = data(n, 25), w2 = arr(n, 24), v2 = arr(n, 25);
          R.sgdMomentum(w1, x, v1, 0.01, 0.9);
          B.sgdMomentum(w2, x, v2, 0.01, 0.9);
          expect(bitDiff(w1, w2)).toEqual([]);
          expect(bitDiff(v1, v2)).toEqual([]);
        }
        for (const [rows, cols] of [[1, 1], [3, 17], [129, 3], [100, 800], [1000, 301]] as const) {
          const x = arr(rows * cols, 31), row = arr(cols, 32);
          for (const op of ["add", "sub", "mul"] as const) {
            const want = new Float32Array(rows * cols), got = arr(rows * cols, 0);
            R.binaryRow(op, x, row, want, rows, cols);
            B.binaryRow(op, x, row, got, rows, cols);
            expect(bitDiff(want, got)).toEqual([]);
          }
          for (const acc of [false, true]) {
            const want = data(cols, 33), got = arr(cols, 33);
            R.sumRows(x, want, rows, cols, acc);
            B.sumRows(x, got, rows, cols, acc);
            expect(bitDiff(want, got)).toEqual([]);
          }
        }
      });
    }
  });
}

describe("float32 transcendental functions of the LSTM kernels", () => {
  it("stay close to Math.exp and Math.tanh", () => {
    let expErr = 0, tanhErr = 0, sigErr = 0;
    for (let x = -87; x <= 88; x += 0.0013) expErr = Math.max(expErr, Math.abs(R.expf(x) / Math.exp(x) - 1));
    for (let x = -12; x <= 12; x += 0.0007) {
      tanhErr = Math.max(tanhErr, Math.abs(R.tanhf(x) - Math.tanh(x)));
      sigErr = Math.max(sigErr, Math.abs(R.sigmoidf(x) - 1 / (1 + Math.exp(-x))));
    }
    expect(expErr).toBeLessThan(3e-7);
    expect(tanhErr).toBeLessThan(1e-6);
    expect(sigErr).toBeLessThan(2e-7);
    expect(R.expf(1000)).toBe(Math.fround(R.expf(88)));
    expect(R.tanhf(50)).toBe(1);
  });
});

describe("bad input", () => {
  it("gets a clear error", () => {
    B.useBackend(backends[0]!, 1);
    expect(() => B.matmul(new Float32Array(5), new Float32Array(6), new Float32Array(6), 2, 3, 3)).toThrow(/a has 5 elements, needs 6/);
    expect(() => B.linear(new Float32Array(4), new Float32Array(4), null, new Float32Array(4), 2, 2, 2, "gelu" as never)).toThrow(/unknown activation/);
    expect(() => B.im2col(new Float32Array(4), new Float32Array(4), 1, 2, 2, 3, 3, 1, 0)).toThrow(/does not fit/);
    expect(() => B.dropout(1, 2, -1, 0.5, 2, new Float32Array(1), new Float32Array(1), new Float32Array(1))).toThrow(/offset/);
    expect(() => B.dropout(1, 2, 0, 0.5, 2, new Float32Array(4), new Float32Array(4), null, new Uint8Array(3))).toThrow(/keep has 3 elements/);
    expect(() => B.dropoutApply(new Uint8Array(3), 2, new Float32Array(4), new Float32Array(4))).toThrow(/keep has 3 elements/);
    expect(() => B.useBackend("gpu" as never)).toThrow(/unknown backend/);
    expect(() => B.setThreads(0)).toThrow(/positive integer/);
  });
});

describe("allocate and release", () => {
  it("hands out zeroed resident arrays and reuses released blocks", () => {
    B.useBackend(backends[0]!, 1);
    const a = B.allocate(1000);
    expect(B.isResident(a)).toBe(true);
    expect(B.isResident(new Float32Array(10))).toBe(false);
    a.fill(7);
    const offset = a.byteOffset;
    B.release(a);
    const b = B.allocate(1000);
    expect(b.byteOffset).toBe(offset);
    expect(Array.from(b.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(() => B.release(b.subarray(1))).toThrow(/not returned by allocate/);
    B.release(b);
    expect(() => B.release(b)).toThrow(/released already/);
  });

  it("hands out arrays left to their owner (collect: false) that release gives back like any other", () => {
    B.useBackend(backends[0]!, 1);
    const a = B.allocate(5000, { collect: false });
    expect(B.isResident(a)).toBe(true);
    expect(a.every((v) => v === 0)).toBe(true);
    const offset = a.byteOffset;
    B.collect(a); // from now on the collector may give it back too; release still does at once
    B.release(a);
    expect(() => B.release(a)).toThrow(/released already/);
    B.collect(a); // a released array is left alone
    const b = B.allocate(5000, { collect: false });
    expect(b.byteOffset).toBe(offset);
    B.release(b);
  });

  it("keeps arrays valid when the memory grows", () => {
    B.useBackend(backends[0]!, 1);
    const a = B.allocate(16);
    a.set(data(16, 1));
    const before = a.buffer.byteLength;
    const big = B.allocate(8 << 20); // 32 MiB: forces growth
    expect(big.buffer.byteLength).toBeGreaterThan(before);
    expect(B.isResident(a) && B.isResident(big)).toBe(true);
    const out = B.allocate(16);
    B.relu(a, out);
    const want = new Float32Array(16);
    R.relu(a, want);
    expect(bitDiff(want, out)).toEqual([]);
    B.release(big);
  });
});
