/** Matrix products, fused dense layers, convolution and pooling, softmax, losses and dropout. */
import * as backend from "../backend/index.js";
import type { Activation } from "../backend/index.js";
import { Key, nextKey } from "../random/keys.js";
import { Tensor, accumulate, gradBuffer, gradTarget, isGradEnabled, result, type IndexLike } from "./tensor.js";
import { broadcastShapes, expandTo, fmt, normAxis, sizeOf, type Shape } from "./shape.js";
import { mean, mul, split3, sum } from "./ops.js";
import { squeeze, toIndices, unsqueeze } from "./shapeops.js";
import { alloc, allocBytes, gradAlloc, release } from "./pool.js";

// ---- matmul ----

/** For each index of the broadcast batch shape `out`, the flat index into batch shape `inp`. */
function batchIndex(inp: Shape, out: Shape): Float32Array {
  return expandTo(Float32Array.from({ length: sizeOf(inp) }, (_, i) => i), inp, out);
}

/**
 * Matrix product with PyTorch's rules: [m,k]·[k,n]; batched [...,m,k]·[...,k,n] with broadcast batch
 * dimensions; a 1-D operand is a row (left) or column (right) vector whose dimension is then removed.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new Error(`matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)}: 0-d operand`);
  if (a.ndim === 1) return squeeze(matmul(unsqueeze(a, 0), b), b.ndim === 1 ? -1 : -2);
  if (b.ndim === 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error(`matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not match`);
  if (b.ndim === 2) {
    // [..., m, k]·[k, n]: one product over all rows of a.
    const rows = a.size / k;
    const out = alloc(rows * n);
    backend.matmul(a.data, b.data, out, rows, n, k);
    return result(out, [...a.shape.slice(0, -1), n], "matmul", [a, b], (g) => {
      if (a.requiresGrad) {
        const [ga, fresh] = gradTarget(a);
        backend.matmul(g, b.data, ga, rows, k, n, false, true, !fresh);
      }
      if (b.requiresGrad) {
        const [gb, fresh] = gradTarget(b);
        backend.matmul(a.data, g, gb, k, n, rows, true, false, !fresh);
      }
    });
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch, "matmul");
  const ai = batchIndex(aBatch, batch);
  const bi = batchIndex(bBatch, batch);
  const out = alloc(sizeOf(batch) * m * n);
  const A = (i: number) => a.data.subarray(ai[i]! * m * k, (ai[i]! + 1) * m * k);
  const B = (i: number) => b.data.subarray(bi[i]! * k * n, (bi[i]! + 1) * k * n);
  const O = (d: Float32Array, i: number) => d.subarray(i * m * n, (i + 1) * m * n);
  for (let i = 0; i < ai.length; i++) backend.matmul(A(i), B(i), O(out, i), m, n, k);
  return result(out, [...batch, m, n], "matmul", [a, b], (g) => {
    const ga = a.requiresGrad ? gradBuffer(a) : null;
    const gb = b.requiresGrad ? gradBuffer(b) : null;
    for (let i = 0; i < ai.length; i++) {
      if (ga) backend.matmul(O(g, i), B(i), ga.subarray(ai[i]! * m * k, (ai[i]! + 1) * m * k), m, k, n, false, true, true);
      if (gb) backend.matmul(A(i), O(g, i), gb.subarray(bi[i]! * k * n, (bi[i]! + 1) * k * n), k, n, m, true, false, true);
    }
  });
}

// ---- fused dense layer ----

/**
 * Dense layer act(x·wᵀ + b) in one backend call: x [..., in], w [out, in] (PyTorch's layout), b [out].
 * `activation` is "none" (default), "relu", "tanh" or "sigmoid"; the backward includes it.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null, activation: Activation = "none"): Tensor {
  if (w.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== w.shape[1]) {
    throw new Error(`linear: input ${fmt(x.shape)} and weight ${fmt(w.shape)} do not match`);
  }
  const [outF, inF] = w.shape as [number, number];
  if (b && (b.ndim !== 1 || b.shape[0] !== outF)) throw new Error(`linear: bias ${fmt(b.shape)} does not match weight ${fmt(w.shape)}`);
  const batch = x.size / inF;
  const out = alloc(batch * outF, false);
  backend.linear(x.data, w.data, b ? b.data : null, out, batch, inF, outF, activation);
  const parents = b ? [x, w, b] : [x, w];
  return result(out, [...x.shape.slice(0, -1), outF], "linear", parents, (g) => {
    let gz = g;
    if (activation !== "none") {
      gz = gradAlloc(g.length, false);
      if (activation === "relu") backend.reluBackward(g, out, gz);
      else if (activation === "tanh") for (let i = 0; i < g.length; i++) gz[i] = g[i]! * (1 - out[i]! * out[i]!);
      else for (let i = 0; i < g.length; i++) gz[i] = g[i]! * out[i]! * (1 - out[i]!);
    }
    if (x.requiresGrad) {
      const [gx, fresh] = gradTarget(x);
      backend.matmul(gz, w.data, gx, batch, inF, outF, false, false, !fresh);
    }
    if (w.requiresGrad) {
      const [gw, fresh] = gradTarget(w);
      backend.matmul(gz, x.data, gw, outF, inF, batch, true, false, !fresh);
    }
    if (b && b.requiresGrad) {
      const [gb, fresh] = gradTarget(b);
      backend.sumRows(gz, gb, batch, outF, !fresh);
    }
    if (gz !== g) release(gz);
  });
}

// ---- convolution and pooling ----

/** Options of conv2d and the pools. */
export interface Conv2dOptions {
  /** Step between windows in both directions (default 1; for pools, the kernel size). */
  stride?: number;
  /** Zeros (for max pooling: −∞) added on every side (default 0). */
  padding?: number;
}

function outSize(op: string, x: Shape, k: number, stride: number, pad: number): [number, number] {
  for (const [name, v, min] of [["kernel", k, 1], ["stride", stride, 1], ["padding", pad, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${op}: ${name} must be an integer ≥ ${min}, got ${v}`);
  }
  const oh = Math.floor((x[2]! + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((x[3]! + 2 * pad - k) / stride) + 1;
  if (oh < 1 || ow < 1) throw new Error(`${op}: kernel ${k} does not fit input ${fmt(x)} with padding ${pad}`);
  return [oh, ow];
}

/**
 * 2-D convolution (cross-correlation, as PyTorch): x [N,C,H,W], w [O,C,k,k], bias [O] → [N,O,oh,ow], by
 * one product per image (images spread over the backend's threads): with stride 1 straight from the padded
 * image, otherwise weight·im2col(image).
 */
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const { stride = 1, padding = 0 } = options;
  if (x.ndim !== 4 || w.ndim !== 4 || x.shape[1] !== w.shape[1] || w.shape[2] !== w.shape[3]) {
    throw new Error(`conv2d: input ${fmt(x.shape)} and weight ${fmt(w.shape)} do not match ([N,C,H,W] and [O,C,k,k])`);
  }
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, , k] = w.shape as [number, number, number];
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) throw new Error(`conv2d: bias ${fmt(bias.shape)} does not match weight ${fmt(w.shape)}`);
  const [oh, ow] = outSize("conv2d", x.shape, k, stride, padding);
  const L = oh * ow;
  const out = alloc(N * O * L);
  backend.conv2d(x.data, w.data, bias ? bias.data : null, out, N, C, H, W, O, k, stride, padding);
  const parents = bias ? [x, w, bias] : [x, w];
  return result(out, [N, O, oh, ow], "conv2d", parents, (g) => {
    const gw = w.requiresGrad ? gradBuffer(w) : null;
    const gx = x.requiresGrad ? gradBuffer(x) : null;
    if (gw || gx) backend.conv2dBackward(x.data, w.data, g, gw, gx, N, C, H, W, O, k, stride, padding);
    if (bias && bias.requiresGrad) {
      // Per (image, channel) sums, then each channel's over the images in order.
      const sums = backend.temporary(N * O);
      backend.rowSums(g, sums, N * O, L);
      const gb = gradBuffer(bias);
      for (let o = 0; o < O; o++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += sums[n * O + o]!;
        gb[o] += s;
      }
      backend.release(sums);
    }
  });
}

function poolShape(op: string, x: Tensor, kernel: number, options: Conv2dOptions) {
  if (x.ndim !== 4) throw new Error(`${op}: input must be [N,C,H,W], got ${fmt(x.shape)}`);
  const { stride = kernel, padding = 0 } = options;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [oh, ow] = outSize(op, x.shape, kernel, stride, padding);
  if (padding * 2 > kernel) throw new RangeError(`${op}: padding ${padding} exceeds half the kernel ${kernel}`);
  return { stride, padding, N, C, H, W, oh, ow };
}

function avgPool(x: Tensor, kernel: number, options: Conv2dOptions): Tensor {
  const { stride, padding, N, C, H, W, oh, ow } = poolShape("avgPool2d", x, kernel, options);
  const out = alloc(N * C * oh * ow);
  const inv = 1 / (kernel * kernel);
  const d = x.data;
  // Window bounds clipped to the input: rows r0[oi] ≤ i < r1[oi], columns c0[oj] ≤ j < c1[oj].
  const bounds = (n: number, size: number) => {
    const lo = new Int32Array(n);
    const hi = new Int32Array(n);
    for (let q = 0; q < n; q++) {
      lo[q] = Math.max(q * stride - padding, 0);
      hi[q] = Math.min(q * stride - padding + kernel, size);
    }
    return [lo, hi] as const;
  };
  const [r0, r1] = bounds(oh, H);
  const [c0, c1] = bounds(ow, W);
  for (let p = 0, o = 0; p < N * C; p++) {
    const base = p * H * W;
    for (let oi = 0; oi < oh; oi++) for (let oj = 0; oj < ow; oj++, o++) {
      let s = 0;
      for (let i = r0[oi]!; i < r1[oi]!; i++) for (let j = c0[oj]!; j < c1[oj]!; j++) s += d[base + i * W + j]!;
      out[o] = s * inv;
    }
  }
  return result(out, [N, C, oh, ow], "avgPool2d", [x], (g) => {
    const gx = gradBuffer(x);
    for (let p = 0, o = 0; p < N * C; p++) {
      const base = p * H * W;
      for (let oi = 0; oi < oh; oi++) for (let oj = 0; oj < ow; oj++, o++) {
        const v = g[o]! * inv;
        for (let i = r0[oi]!; i < r1[oi]!; i++) for (let j = c0[oj]!; j < c1[oj]!; j++) gx[base + i * W + j] += v;
      }
    }
  });
}

/** Max pooling over kernel×kernel windows of x [N,C,H,W] (stride defaults to the kernel size); padding is −∞. */
export function maxPool2d(x: Tensor, kernel: number, options: Conv2dOptions = {}): Tensor {
  const { stride, padding, N, C, H, W, oh, ow } = poolShape("maxPool2d", x, kernel, options);
  const out = alloc(N * C * oh * ow);
  backend.maxPool(x.data, out, N * C, H, W, kernel, stride, padding);
  return result(out, [N, C, oh, ow], "maxPool2d", [x], (g) => {
    backend.maxPoolBackward(x.data, g, gradBuffer(x), N * C, H, W, kernel, stride, padding);
  });
}

/** Average pooling over kernel×kernel windows; padded zeros count in the average (PyTorch's default). */
export function avgPool2d(x: Tensor, kernel: number, options: Conv2dOptions = {}): Tensor {
  return avgPool(x, kernel, options);
}

// ---- softmax and losses ----

/** Row-wise (over `axis`) max-shifted log-sum-exp of x, laid out [outer, inner]. */
function lseAlong(d: Float32Array, outer: number, n: number, inner: number): Float64Array {
  const lse = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const base = o * n * inner + i;
    let m = -Infinity;
    for (let r = 0; r < n; r++) if (d[base + r * inner]! > m) m = d[base + r * inner]!;
    if (!Number.isFinite(m)) m = 0;
    let s = 0;
    for (let r = 0; r < n; r++) s += Math.exp(d[base + r * inner]! - m);
    lse[o * inner + i] = m + Math.log(s);
  }
  return lse;
}

/** log softmax along `axis` (default last), computed stably as x − logsumexp(x). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = normAxis(axis, x.ndim, "logSoftmax");
  const [outer, n, inner] = split3(x.shape, ax);
  const lse = lseAlong(x.data, outer, n, inner);
  const out = alloc(x.size);
  for (let o = 0; o < outer; o++) for (let r = 0; r < n; r++) for (let i = 0; i < inner; i++) {
    const e = (o * n + r) * inner + i;
    out[e] = x.data[e]! - lse[o * inner + i]!;
  }
  return result(out, x.shape, "logSoftmax", [x], (g) => {
    const gx = alloc(x.size);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += g[(o * n + r) * inner + i]!;
      for (let r = 0; r < n; r++) {
        const e = (o * n + r) * inner + i;
        gx[e] = g[e]! - Math.exp(out[e]!) * s;
      }
    }
    accumulate(x, gx, true);
  });
}

/** softmax along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = normAxis(axis, x.ndim, "softmax");
  const [outer, n, inner] = split3(x.shape, ax);
  const lse = lseAlong(x.data, outer, n, inner);
  const out = alloc(x.size);
  for (let o = 0; o < outer; o++) for (let r = 0; r < n; r++) for (let i = 0; i < inner; i++) {
    const e = (o * n + r) * inner + i;
    out[e] = Math.exp(x.data[e]! - lse[o * inner + i]!);
  }
  return result(out, x.shape, "softmax", [x], (g) => {
    const gx = alloc(x.size);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += g[(o * n + r) * inner + i]! * out[(o * n + r) * inner + i]!;
      for (let r = 0; r < n; r++) {
        const e = (o * n + r) * inner + i;
        gx[e] = out[e]! * (g[e]! - s);
      }
    }
    accumulate(x, gx, true);
  });
}

/** How a loss combines its per-sample values. */
export type Reduction = "mean" | "sum" | "none";

/** Options of the losses. */
export interface LossOptions {
  /** "mean" (default) over samples, "sum", or "none" for per-sample losses. */
  reduction?: Reduction;
}

function reduce(t: Tensor, reduction: Reduction, op: string): Tensor {
  if (reduction === "mean") return mean(t);
  if (reduction === "sum") return sum(t);
  if (reduction === "none") return t;
  throw new RangeError(`${op}: unknown reduction "${String(reduction)}"`);
}

/**
 * Cross entropy of logits [N, C] against integer class labels (N of them: an array or a tensor) or against
 * class probabilities (a tensor [N, C]), via log-softmax (stable for large logits).
 */
export function crossEntropy(logits: Tensor, target: IndexLike, options: LossOptions = {}): Tensor {
  const { reduction = "mean" } = options;
  if (logits.ndim !== 2) throw new Error(`crossEntropy: logits must be [N, C], got ${fmt(logits.shape)}`);
  const [N, C] = logits.shape as [number, number];
  if (target instanceof Tensor && target.ndim === 2) {
    if (target.shape[0] !== N || target.shape[1] !== C) {
      throw new Error(`crossEntropy: logits ${fmt(logits.shape)} and probabilities ${fmt(target.shape)} differ`);
    }
    return reduce(sum(mul(logSoftmax(logits, 1), target), 1).neg(), reduction, "crossEntropy");
  }
  const labels = toIndices(target, C, "crossEntropy");
  if (labels.length !== N) throw new Error(`crossEntropy: logits ${fmt(logits.shape)} and ${labels.length} labels do not match`);
  const lse = lseAlong(logits.data, N, C, 1);
  const losses = alloc(N);
  for (let i = 0; i < N; i++) losses[i] = lse[i]! - logits.data[i * C + labels[i]!]!;
  const perSample = result(losses, [N], "crossEntropy", [logits], (g) => {
    const gx = gradAlloc(logits.size, false);
    for (let i = 0; i < N; i++) {
      const gi = g[i]!;
      for (let j = 0; j < C; j++) gx[i * C + j] = gi * Math.exp(logits.data[i * C + j]! - lse[i]!);
      gx[i * C + labels[i]!] -= gi;
    }
    accumulate(logits, gx, true);
  });
  return reduce(perSample, reduction, "crossEntropy");
}

/** Mean squared error between same-shape tensors. */
export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  if (input.size !== target.size || input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`mseLoss: shapes ${fmt(input.shape)} and ${fmt(target.shape)} differ`);
  }
  const d = input.sub(target);
  return reduce(d.mul(d), options.reduction ?? "mean", "mseLoss");
}

// ---- dropout ----

/** Options of the functional dropout. */
export interface DropoutOptions {
  /** Whether to drop units; required, so that evaluation code cannot drop by accident. */
  training: boolean;
  /** The key whose sampling stream (from word 0) decides the mask; the default stream's next key when omitted. */
  key?: Key;
  /**
   * "inverted" (default): kept units scale by 1/(1−p) in training, identity in evaluation.
   * "classic" (Hinton et al. 2012): kept units unscaled in training, everything times (1−p) in evaluation.
   */
  mode?: "inverted" | "classic";
}

/**
 * Drops each unit with probability p. Unit j is kept when u(stream word j of the key) < fround(1 − p), the
 * rule of `random.bernoulli(key, x.shape, 1 − p)`, which therefore reproduces the mask. The backward
 * multiplies by the same mask.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  if (!(typeof p === "number" && p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  if (typeof options?.training !== "boolean") throw new TypeError("dropout: options.training (boolean) is required");
  const { training, mode = "inverted" } = options;
  if (mode !== "inverted" && mode !== "classic") throw new RangeError(`dropout: unknown mode "${String(mode)}"`);
  if (!training) return mode === "classic" && p > 0 ? mul(x, 1 - p) : x;
  if (p === 0) return x;
  if (p === 1) {
    return result(alloc(x.size), x.shape, "dropout", [x], (g) => accumulate(x, alloc(g.length), true));
  }
  const k = options.key ?? nextKey();
  if (!(k instanceof Key)) throw new TypeError(`dropout: key must be a Key, got ${String(k)}`);
  // The scale is rounded to float32 first, so x·scale rounds the same in JavaScript and in WebAssembly f32.
  const scale = Math.fround(mode === "classic" ? 1 : p < 1 ? 1 / (1 - p) : 0);
  const out = alloc(x.size, false);
  // When a graph is recorded, the mask is kept as one byte per unit for the backward pass.
  const keep = isGradEnabled() && x.requiresGrad ? allocBytes(x.size) : null;
  backend.dropout(k.k0, k.k1, 0, 1 - p, scale, x.data, out, null, keep);
  return result(out, x.shape, "dropout", [x], (g) => {
    const gx = gradAlloc(g.length, false);
    backend.dropoutApply(keep!, scale, g, gx);
    accumulate(x, gx, true);
  });
}

// ---- fused LSTM cell ----

/**
 * Fused LSTM cell: from the gate pre-activations gates [B, 4H] (PyTorch's order i, f, g, o) and the previous
 * cell state cPrev [B, H], returns [h, c] with c = σ(f)·cPrev + σ(i)·tanh(g) and h = σ(o)·tanh(c), in one
 * backend call each way (float32 steps, the same on every backend and thread count).
 */
export function lstmCell(gates: Tensor, cPrev: Tensor): [Tensor, Tensor] {
  if (gates.ndim !== 2 || cPrev.ndim !== 2 || gates.shape[0] !== cPrev.shape[0] || gates.shape[1] !== 4 * cPrev.shape[1]!) {
    throw new Error(`lstmCell: gates ${fmt(gates.shape)} and cell state ${fmt(cPrev.shape)} do not match ([B, 4H] and [B, H])`);
  }
  const [B, H] = cPrev.shape as [number, number];
  const n = B * H;
  const act = alloc(4 * n);
  const hc = alloc(2 * n);
  const h = hc.subarray(0, n);
  const c = hc.subarray(n);
  backend.lstmForward(gates.data, cPrev.data, c, h, act, B, H);
  // One node for both outputs; h and c are views of it whose gradients land in its gradient's halves.
  const both = result(hc, [2, B, H], "lstmCell", [gates, cPrev], (g) => {
    const dGates = gradAlloc(4 * n, false);
    const dcPrev = gradAlloc(n, false);
    backend.lstmBackward(act, cPrev.data, c, g.subarray(0, n), g.subarray(n), dGates, dcPrev, B, H);
    accumulate(gates, dGates, true);
    accumulate(cPrev, dcPrev, true);
  });
  const part = (i: number, data: Float32Array) => result(data, [B, H], "lstmCell", [both], (g) => {
    const d = gradBuffer(both).subarray(i * n, (i + 1) * n);
    for (let j = 0; j < n; j++) d[j] += g[j]!;
  });
  return [part(0, h), part(1, c)];
}

/**
 * Block `index` of base [T, B, outF] plus a dense layer of x [B, inF]: base[index] + x·wᵀ + b, w [outF, inF]
 * (a recurrent step's gates: the precomputed input projection at step `index` plus the recurrent term),
 * with one matrix product accumulating onto the block.
 */
export function linearAddBlock(base: Tensor, index: number, x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const [outF, inF] = w.shape as [number, number];
  const batch = x.shape[0]!;
  if (w.ndim !== 2 || x.ndim !== 2 || x.shape[1] !== inF || base.ndim !== 3 || base.shape[1] !== batch || base.shape[2] !== outF) {
    throw new Error(`linearAddBlock: base ${fmt(base.shape)}, input ${fmt(x.shape)} and weight ${fmt(w.shape)} do not match`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= base.shape[0]!) throw new RangeError(`linearAddBlock: index ${index} outside base ${fmt(base.shape)}`);
  if (b && (b.ndim !== 1 || b.shape[0] !== outF)) throw new Error(`linearAddBlock: bias ${fmt(b.shape)} does not match weight ${fmt(w.shape)}`);
  const n = batch * outF;
  const out = alloc(n);
  out.set(base.data.subarray(index * n, (index + 1) * n));
  if (b) for (let r = 0; r < batch; r++) for (let j = 0; j < outF; j++) out[r * outF + j] += b.data[j]!;
  backend.matmul(x.data, w.data, out, batch, outF, inF, false, true, true);
  return result(out, [batch, outF], "linearAddBlock", b ? [base, x, w, b] : [base, x, w], (g) => {
    if (base.requiresGrad) {
      const gb = gradBuffer(base).subarray(index * n, (index + 1) * n);
      for (let j = 0; j < n; j++) gb[j] += g[j]!;
    }
    if (x.requiresGrad) backend.matmul(g, w.data, gradBuffer(x), batch, inF, outF, false, false, true);
    if (w.requiresGrad) backend.matmul(g, x.data, gradBuffer(w), outF, inF, batch, true, false, true);
    if (b && b.requiresGrad) backend.sumRows(g, gradBuffer(b), batch, outF, true);
  });
}
