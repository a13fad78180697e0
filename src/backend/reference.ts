/**
 * The scalar JavaScript reference for every backend kernel: the "js" backend, and the oracle the tests
 * hold the WebAssembly kernels to. Functions document where the WebAssembly kernels match them bit for bit.
 */
import { streamWords, wordToUniform } from "../random/philox.js";

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
 * Bit-identical across backends and worker counts: mask[j] = float32(scale) and out[j] = float32(x[j] · scale)
 * with the product taken in double precision. With `keep`, keep[j] = 1 for a kept unit and 0 otherwise.
 */
export function dropout(
  k0: number,
  k1: number,
  offset: number,
  keepProb: number,
  scale: number,
  x: Float32Array,
  out: Float32Array,
  mask: Float32Array | null,
  keep: Uint8Array | null = null,
): void {
  const n = x.length;
  const words = new Uint32Array(n);
  streamWords(k0, k1, offset, words);
  const keepP = Math.fround(keepProb);
  for (let j = 0; j < n; j++) {
    const kept = wordToUniform(words[j]!) < keepP;
    const m = kept ? scale : 0;
    if (mask) mask[j] = m;
    if (keep) keep[j] = kept ? 1 : 0;
    out[j] = x[j]! * m;
  }
}

/** out[j] = float32(g[j] · scale) where keep[j] is nonzero, else g[j] · 0: dropout's backward. */
export function dropoutApply(keep: Uint8Array, scale: number, g: Float32Array, out: Float32Array): void {
  for (let j = 0; j < g.length; j++) out[j] = g[j]! * (keep[j] !== 0 ? scale : 0);
}

/** out = x > 0 ? x : 0 (NaN gives 0). Bit-identical across backends. */
export function relu(x: Float32Array, out: Float32Array): void {
  for (let j = 0; j < x.length; j++) {
    const v = x[j]!;
    out[j] = v > 0 ? v : 0;
  }
}

/** dx = y > 0 ? dy : 0, with y the relu input or output. Bit-identical across backends. */
export function reluBackward(dy: Float32Array, y: Float32Array, dx: Float32Array): void {
  for (let j = 0; j < dy.length; j++) dx[j] = y[j]! > 0 ? dy[j]! : 0;
}

export type BinaryOp = "add" | "sub" | "mul";

function apply(op: BinaryOp, a: number, b: number): number {
  return op === "add" ? a + b : op === "sub" ? a - b : a * b;
}

/** out = a (op) b elementwise, rounded to float32. Bit-identical across backends. */
export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  for (let j = 0; j < a.length; j++) out[j] = apply(op, a[j]!, b[j]!);
}

/** out[i, j] = x[i, j] (op) row[j] for x of rows×cols. Bit-identical across backends. */
export function binaryRow(
  op: BinaryOp,
  x: Float32Array,
  row: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = apply(op, x[i * cols + j]!, row[j]!);
  }
}

/**
 * out[j] = (accumulate ? out[j] : 0) + Σ_i x[i, j], summed in float32 over rows in ascending order (the
 * bias gradient). Bit-identical across backends.
 */
export function sumRows(x: Float32Array, out: Float32Array, rows: number, cols: number, accumulate = false): void {
  for (let j = 0; j < cols; j++) {
    let s = accumulate ? out[j]! : 0;
    for (let i = 0; i < rows; i++) s = Math.fround(s + x[i * cols + j]!);
    out[j] = s;
  }
}

/** y += alpha · x in float32 (alpha rounded to float32; the product is rounded, then the sum). Bit-identical. */
export function axpy(alpha: number, x: Float32Array, y: Float32Array): void {
  const a = Math.fround(alpha);
  for (let j = 0; j < x.length; j++) y[j] = y[j]! + Math.fround(a * x[j]!);
}

/**
 * SGD with momentum as PyTorch does it (dampening 0): v = momentum · v + g, then w -= lr · v, every step in
 * float32 (lr and momentum rounded to float32). Bit-identical across backends.
 */
export function sgdMomentum(w: Float32Array, g: Float32Array, v: Float32Array, lr: number, momentum: number): void {
  const l = Math.fround(lr);
  const mo = Math.fround(momentum);
  for (let j = 0; j < w.length; j++) {
    const vel = Math.fround(Math.fround(mo * v[j]!) + g[j]!);
    v[j] = vel;
    w[j] = w[j]! - Math.fround(l * vel);
  }
}

/**
 * im2col for one image: x[c×h×w] → cols[(c·kh·kw) × (oh·ow)] with zero padding, stride, dilation 1.
 * Bit-identical across backends (im2col copies; col2im adds in this loop order).
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

/**
 * out[r] (+)= Σ_j x[r, j] for x [rows × cols], in float32: four partial sums (lane q takes j ≡ q mod 4 of
 * the whole quads, in ascending order), combined as (s0 + s1) + (s2 + s3), then the tail in order.
 */
export function rowSums(x: Float32Array, out: Float32Array, rows: number, cols: number, accumulate = false): void {
  const lanes = new Float32Array(4);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    lanes.fill(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) for (let q = 0; q < 4; q++) lanes[q] += x[row + j + q]!;
    let s = f(f(lanes[0]! + lanes[1]!) + f(lanes[2]! + lanes[3]!));
    for (; j < cols; j++) s = f(s + x[row + j]!);
    out[r] = accumulate ? out[r]! + s : s;
  }
}

/**
 * Max pooling of `planes` planes h×w into oh×ow (windows k×k, stride, padding −∞): each output is its
 * window's first maximum (a NaN only wins as the first value). With g and dx (backward), adds g[o] into dx at
 * that position instead of writing out.
 */
export function maxPool(
  x: Float32Array, out: Float32Array | null, g: Float32Array | null, dx: Float32Array | null,
  planes: number, h: number, w: number, oh: number, ow: number, k: number, stride: number, pad: number,
): void {
  for (let p = 0, o = 0; p < planes; p++) {
    const base = p * h * w;
    for (let oi = 0; oi < oh; oi++) {
      const i0 = Math.max(oi * stride - pad, 0);
      const i1 = Math.min(oi * stride - pad + k, h);
      for (let oj = 0; oj < ow; oj++, o++) {
        const j0 = Math.max(oj * stride - pad, 0);
        const j1 = Math.min(oj * stride - pad + k, w);
        let best = -Infinity;
        let at = -1;
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) {
          const v = x[base + i * w + j]!;
          if (v > best || at < 0) {
            best = v;
            at = base + i * w + j;
          }
        }
        if (dx && g) dx[at] += g[o]!;
        else out![o] = best;
      }
    }
  }
}

/** 2-D convolution: out [n, o, oh, ow] = weight [o, c·k·k] · im2col(x_b) (+ bias per channel), image by image. */
export function conv2d(
  x: Float32Array, weight: Float32Array, bias: Float32Array | null, out: Float32Array,
  n: number, c: number, h: number, w: number, o: number, k: number, stride: number, pad: number,
): void {
  const l = (Math.floor((h + 2 * pad - k) / stride) + 1) * (Math.floor((w + 2 * pad - k) / stride) + 1);
  const kk = c * k * k, img = c * h * w;
  const cols = new Float32Array(kk * l);
  for (let b = 0; b < n; b++) {
    im2col(x.subarray(b * img, (b + 1) * img), cols, c, h, w, k, k, stride, pad);
    const ob = out.subarray(b * o * l, (b + 1) * o * l);
    matmul(weight, cols, ob, o, l, kk);
    if (bias) for (let ch = 0; ch < o; ch++) for (let j = ch * l; j < (ch + 1) * l; j++) ob[j] += bias[ch]!;
  }
}

/**
 * Backward of conv2d: gw += Σ_b g_b·im2col(x_b)ᵀ, summed per run q of images [n·q/groups, n·(q+1)/groups)
 * and the runs added in order (when gw is given); gx_b += col2im(weightᵀ·g_b) (when gx is given).
 */
export function conv2dBackward(
  x: Float32Array, weight: Float32Array, g: Float32Array, gw: Float32Array | null, gx: Float32Array | null,
  n: number, c: number, h: number, w: number, o: number, k: number, stride: number, pad: number, groups: number,
): void {
  const l = (Math.floor((h + 2 * pad - k) / stride) + 1) * (Math.floor((w + 2 * pad - k) / stride) + 1);
  const kk = c * k * k, img = c * h * w;
  const cols = new Float32Array(kk * l);
  const partial = new Float32Array(o * kk);
  for (let q = 0; q < groups; q++) {
    const b0 = Math.floor((n * q) / groups), b1 = Math.floor((n * (q + 1)) / groups);
    for (let b = b0; b < b1; b++) {
      const gb = g.subarray(b * o * l, (b + 1) * o * l);
      const xb = x.subarray(b * img, (b + 1) * img);
      if (gw) {
        im2col(xb, cols, c, h, w, k, k, stride, pad);
        matmul(gb, cols, partial, o, kk, l, false, true, b > b0);
      }
      if (gx) {
        matmul(weight, gb, cols, kk, l, o, true, false);
        col2im(cols, gx.subarray(b * img, (b + 1) * img), c, h, w, k, k, stride, pad);
      }
    }
    if (gw && b1 > b0) for (let j = 0; j < o * kk; j++) gw[j] += partial[j]!;
  }
}

const f = Math.fround;
const LOG2E = f(1.44269504);
const LN2_HI = f(0.693359375);
const LN2_LO = f(-2.1219444e-4);
const C720 = f(1 / 720);
const C120 = f(1 / 120);
const C24 = f(1 / 24);
const C6 = f(1 / 6);

/**
 * exp in float32 steps, as the LSTM kernels compute it: x clamped to [-87, 88], n = floor(x·log2 e + 1/2),
 * r = x - n·ln 2 (in two parts), a degree-6 Taylor polynomial in r, times 2^n. Relative error below 3e-7.
 */
export function expf(x: number): number {
  const xc = Math.min(Math.max(x, -87), 88);
  const n = Math.floor(f(f(xc * LOG2E) + 0.5));
  const r = f(f(xc - f(n * LN2_HI)) - f(n * LN2_LO));
  let p = f(f(r * C720) + C120);
  p = f(f(p * r) + C24);
  p = f(f(p * r) + C6);
  p = f(f(p * r) + 0.5);
  p = f(f(p * r) + 1);
  p = f(f(p * r) + 1);
  return f(p * 2 ** n);
}

/** Logistic sigmoid in float32 steps: 1 / (1 + expf(-x)). */
export function sigmoidf(x: number): number {
  return f(1 / f(1 + expf(-x)));
}

/** tanh in float32 steps: 2·sigmoid(2x) - 1 (absolute error below 1e-6). */
export function tanhf(x: number): number {
  return f(f(2 * sigmoidf(f(x + x))) - 1);
}

/**
 * Optional masks of the fused LSTM cell's forward, each [batch×hidden]: `g` multiplies the candidate g
 * (recurrent dropout, scaled keep values); zoneout `zc` writes cOut = cPrev where zc is 1, else the new c;
 * zoneout `zh` replaces h by hPrev where zh is 1; `v` (variational recurrent mask) writes hm = h·v.
 */
export interface LstmMasks {
  g?: Float32Array;
  zc?: Float32Array;
  cOut?: Float32Array;
  zh?: Float32Array;
  hPrev?: Float32Array;
  v?: Float32Array;
  hm?: Float32Array;
}

/**
 * The forward's masks for the backward: `g`, `zc`, `zh` (writing dhPrev, the part of h's gradient zoneout
 * passes straight to hPrev) and `v` with dhm (the gradient reaching hm, added to dh as dhm·v).
 */
export interface LstmBackwardMasks {
  g?: Float32Array;
  zc?: Float32Array;
  zh?: Float32Array;
  dhPrev?: Float32Array;
  v?: Float32Array;
  dhm?: Float32Array;
}

/**
 * Fused LSTM cell, PyTorch gate order (i, f, g, o): gates[batch×4H] holds the pre-activations of each row
 * (i block, then f, g, o). Writes act = (σ(i), σ(f), tanh(g), σ(o)) (act may alias gates),
 * c = f·cPrev + i·g and h = o·tanh(c), every step in float32, with the optional masks (LstmMasks).
 * Bit-identical across backends.
 */
export function lstmForward(
  gates: Float32Array,
  cPrev: Float32Array,
  c: Float32Array,
  h: Float32Array,
  act: Float32Array,
  batch: number,
  hidden: number,
  m: LstmMasks = {},
): void {
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j++) {
      const at = b * 4 * hidden + j;
      const k = b * hidden + j;
      const ig = sigmoidf(gates[at]!);
      const fg = sigmoidf(gates[at + hidden]!);
      const gg = tanhf(gates[at + 2 * hidden]!);
      const og = sigmoidf(gates[at + 3 * hidden]!);
      act[at] = ig;
      act[at + hidden] = fg;
      act[at + 2 * hidden] = gg;
      act[at + 3 * hidden] = og;
      const cv = f(f(fg * cPrev[k]!) + f(ig * (m.g ? f(gg * m.g[k]!) : gg)));
      c[k] = cv;
      let hv = f(og * tanhf(cv));
      if (m.zc) m.cOut![k] = m.zc[k] === 1 ? cPrev[k]! : cv;
      if (m.zh && m.zh[k] === 1) hv = m.hPrev![k]!;
      h[k] = hv;
      if (m.v) m.hm![k] = f(hv * m.v[k]!);
    }
  }
}

/**
 * Backward of lstmForward: from act, cPrev, c, dh and dc (the gradients reaching its h and c outputs),
 * writes dGates (pre-activation gradients; may alias act) and dcPrev (may alias dc), in float32, with the
 * forward's masks (LstmBackwardMasks). Bit-identical across backends.
 */
export function lstmBackward(
  act: Float32Array,
  cPrev: Float32Array,
  c: Float32Array,
  dh: Float32Array,
  dc: Float32Array,
  dGates: Float32Array,
  dcPrev: Float32Array,
  batch: number,
  hidden: number,
  m: LstmBackwardMasks = {},
): void {
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j++) {
      const at = b * 4 * hidden + j;
      const k = b * hidden + j;
      const ig = act[at]!, fg = act[at + hidden]!, gg = act[at + 2 * hidden]!, og = act[at + 3 * hidden]!;
      const tc = tanhf(c[k]!);
      let dhv = dh[k]!;
      if (m.v) dhv = f(dhv + f(m.dhm![k]! * m.v[k]!));
      if (m.zh) {
        const keep = m.zh[k] === 1;
        m.dhPrev![k] = keep ? dhv : 0;
        if (keep) dhv = 0;
      }
      let dcv = dc[k]!;
      let dcKeep = 0;
      if (m.zc && m.zc[k] === 1) {
        dcKeep = dcv;
        dcv = 0;
      }
      const dct = f(dcv + f(f(dhv * og) * f(1 - f(tc * tc))));
      const gm = m.g ? m.g[k]! : 1;
      dGates[at] = f(f(dct * (m.g ? f(gg * gm) : gg)) * f(ig * f(1 - ig)));
      dGates[at + hidden] = f(f(dct * cPrev[k]!) * f(fg * f(1 - fg)));
      dGates[at + 2 * hidden] = f(f(m.g ? f(f(dct * ig) * gm) : f(dct * ig)) * f(1 - f(gg * gg)));
      dGates[at + 3 * hidden] = f(f(dhv * tc) * f(og * f(1 - og)));
      dcPrev[k] = m.zc ? f(f(dct * fg) + dcKeep) : f(dct * fg);
    }
  }
}
