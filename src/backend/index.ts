/**
 * The hot kernels behind the tensor library. Every function works on plain row-major, contiguous
 * Float32Arrays and is synchronous. This file holds the contract and the scalar JavaScript reference;
 * the WebAssembly SIMD kernels and the worker pool implement the same functions bit for bit where
 * stated, and identically for any worker count.
 */
import { streamWords, wordToUniform } from "../random/philox.js";

export type BackendName = "js" | "simd" | "relaxed";

/** The backend in use. */
export function backendName(): BackendName {
  return "js";
}

/**
 * c[m×n] = op(a) · op(b) (+ c when accumulate), where op(a) is m×k (a stored k×m when transA) and
 * op(b) is k×n (b stored n×k when transB).
 */
export function matmul(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  transA = false,
  transB = false,
  accumulate = false,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i]! : a[i * k + p]!;
        const bv = transB ? b[j * k + p]! : b[p * n + j]!;
        s += av * bv;
      }
      c[i * n + j] = accumulate ? c[i * n + j]! + s : s;
    }
  }
}

export type Activation = "none" | "relu" | "tanh" | "sigmoid";

/**
 * Fused dense layer: out[batch×outF] = act(x[batch×inF] · wᵀ + bias), w stored [outF×inF] as in PyTorch.
 * bias may be null.
 */
export function linear(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  batch: number,
  inF: number,
  outF: number,
  activation: Activation = "none",
): void {
  matmul(x, w, out, batch, outF, inF, false, true);
  for (let i = 0; i < batch; i++) {
    for (let j = 0; j < outF; j++) {
      let v = out[i * outF + j]! + (bias ? bias[j]! : 0);
      if (activation === "relu") v = v > 0 ? v : 0;
      else if (activation === "tanh") v = Math.tanh(v);
      else if (activation === "sigmoid") v = 1 / (1 + Math.exp(-v));
      out[i * outF + j] = v;
    }
  }
}

/**
 * Fused dropout mask generation and application. Unit j keeps when uniform(stream word offset + j of key
 * (k0, k1)) < keepProb; then mask[j] = scale and out[j] = x[j] * scale, else both are 0.
 * Bit-identical across backends and worker counts.
 */
export function dropout(
  k0: number,
  k1: number,
  offset: number,
  keepProb: number,
  scale: number,
  x: Float32Array,
  out: Float32Array,
  mask: Float32Array,
): void {
  const n = x.length;
  const words = new Uint32Array(n);
  streamWords(k0, k1, offset, words);
  const keep = Math.fround(keepProb);
  for (let j = 0; j < n; j++) {
    const m = wordToUniform(words[j]!) < keep ? scale : 0;
    mask[j] = m;
    out[j] = x[j]! * m;
  }
}

/**
 * im2col for one image: x[c×h×w] → cols[(c·kh·kw) × (oh·ow)] with zero padding, stride, dilation 1.
 */
export function im2col(
  x: Float32Array,
  cols: Float32Array,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
): void {
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  let row = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++, row++) {
        for (let oi = 0; oi < oh; oi++) {
          const ii = oi * stride - pad + ki;
          for (let oj = 0; oj < ow; oj++) {
            const jj = oj * stride - pad + kj;
            cols[row * oh * ow + oi * ow + oj] =
              ii >= 0 && ii < h && jj >= 0 && jj < w ? x[ci * h * w + ii * w + jj]! : 0;
          }
        }
      }
    }
  }
}

/** col2im for one image: the adjoint of im2col; adds cols back into dx[c×h×w] (dx is not cleared). */
export function col2im(
  cols: Float32Array,
  dx: Float32Array,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
): void {
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  let row = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++, row++) {
        for (let oi = 0; oi < oh; oi++) {
          const ii = oi * stride - pad + ki;
          if (ii < 0 || ii >= h) continue;
          for (let oj = 0; oj < ow; oj++) {
            const jj = oj * stride - pad + kj;
            if (jj >= 0 && jj < w) dx[ci * h * w + ii * w + jj] += cols[row * oh * ow + oi * ow + oj]!;
          }
        }
      }
    }
  }
}
