// Convolution and pooling, stride s, zero padding p, dilation 1. im2col/col2im for one image use the same
// loops as the JavaScript reference, so results are bit-identical; threads split im2col by rows of cols,
// col2im by channels and the pools by planes (each plane of dx is only touched by its own rows, added in the
// reference's order), so any thread count gives the same bits.

import { gemmSerial, gemmWorkspaceBytes } from "./gemm";

// @ts-ignore: decorator
@inline function part(n: i32, tid: i32, nt: i32): i32 {
  return <i32>(<i64>n * <i64>tid / <i64>nt);
}

export function im2col(x: usize, cols: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, stride: i32, pad: i32, tid: i32, nt: i32): void {
  const oh = (h + 2 * pad - kh) / stride + 1;
  const ow = (w + 2 * pad - kw) / stride + 1;
  const rows = c * kh * kw;
  const r1 = part(rows, tid + 1, nt);
  for (let row = part(rows, tid, nt); row < r1; row++) {
    const ci = row / (kh * kw);
    const ki = (row / kw) % kh;
    const kj = row % kw;
    const src = x + <usize>(ci * h * w) * 4;
    const dst = cols + <usize>row * <usize>(oh * ow) * 4;
    for (let oi = 0; oi < oh; oi++) {
      const ii = oi * stride - pad + ki;
      const d = dst + <usize>(oi * ow) * 4;
      if (ii < 0 || ii >= h) {
        memory.fill(d, 0, <usize>ow * 4);
        continue;
      }
      const srow = src + <usize>(ii * w) * 4;
      if (stride == 1) {
        // Columns lo ≤ oj < hi read x[ii, oj − pad + kj] inside the row: a copy, zeros either side.
        const lo = min(max(pad - kj, 0), ow);
        const hi = max(min(w + pad - kj, ow), lo);
        const s = srow + <usize>(kj - pad) * 4;
        let oj = 0;
        for (; oj < lo; oj++) store<f32>(d + <usize>oj * 4, 0);
        for (; oj + 4 <= hi; oj += 4) v128.store(d + <usize>oj * 4, v128.load(s + <usize>oj * 4));
        for (; oj < hi; oj++) store<f32>(d + <usize>oj * 4, load<f32>(s + <usize>oj * 4));
        for (; oj < ow; oj++) store<f32>(d + <usize>oj * 4, 0);
        continue;
      }
      for (let oj = 0; oj < ow; oj++) {
        const jj = oj * stride - pad + kj;
        store<f32>(d + <usize>oj * 4, jj >= 0 && jj < w ? load<f32>(srow + <usize>jj * 4) : 0);
      }
    }
  }
}

export function col2im(cols: usize, dx: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, stride: i32, pad: i32, tid: i32, nt: i32): void {
  const oh = (h + 2 * pad - kh) / stride + 1;
  const ow = (w + 2 * pad - kw) / stride + 1;
  const c1 = part(c, tid + 1, nt);
  for (let ci = part(c, tid, nt); ci < c1; ci++) {
    const dst = dx + <usize>(ci * h * w) * 4;
    for (let kk = 0; kk < kh * kw; kk++) {
      const ki = kk / kw;
      const kj = kk % kw;
      const src = cols + <usize>(ci * kh * kw + kk) * <usize>(oh * ow) * 4;
      for (let oi = 0; oi < oh; oi++) {
        const ii = oi * stride - pad + ki;
        if (ii < 0 || ii >= h) continue;
        const drow = dst + <usize>(ii * w) * 4;
        const srow = src + <usize>(oi * ow) * 4;
        if (stride == 1) {
          // dx[ii, oj − pad + kj] += cols[.., oj] for lo ≤ oj < hi (each a separate float32 add, as below).
          const lo = min(max(pad - kj, 0), ow);
          const hi = max(min(w + pad - kj, ow), lo);
          const d = drow + <usize>(kj - pad) * 4;
          let oj = lo;
          for (; oj + 4 <= hi; oj += 4) {
            const at = d + <usize>oj * 4;
            v128.store(at, f32x4.add(v128.load(at), v128.load(srow + <usize>oj * 4)));
          }
          for (; oj < hi; oj++) store<f32>(d + <usize>oj * 4, load<f32>(d + <usize>oj * 4) + load<f32>(srow + <usize>oj * 4));
          continue;
        }
        for (let oj = 0; oj < ow; oj++) {
          const jj = oj * stride - pad + kj;
          if (jj >= 0 && jj < w) store<f32>(drow + <usize>jj * 4, load<f32>(drow + <usize>jj * 4) + load<f32>(srow + <usize>oj * 4));
        }
      }
    }
  }
}

/**
 * out[r] (+)= Σ_j x[r, j] for x [rows × cols], in float32: four partial sums (lane q takes j ≡ q mod 4 of
 * the whole quads, in ascending order), combined as (s0 + s1) + (s2 + s3), then the tail in order.
 */
export function rowSums(x: usize, out: usize, rows: i32, cols: i32, accumulate: bool, tid: i32, nt: i32): void {
  const r1 = part(rows, tid + 1, nt);
  for (let r = part(rows, tid, nt); r < r1; r++) {
    const row = x + <usize>r * <usize>cols * 4;
    let v = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) v = f32x4.add(v, v128.load(row + <usize>j * 4));
    let s: f32 = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
    for (; j < cols; j++) s += load<f32>(row + <usize>j * 4);
    store<f32>(out + <usize>r * 4, accumulate ? load<f32>(out + <usize>r * 4) + s : s);
  }
}

/**
 * Max pooling of `planes` planes h×w into oh×ow (windows k×k, stride, padding −∞ clipped away). Each output
 * is its window's first maximum (a NaN only wins as the first value). With `backward`, instead adds g[o]
 * into dx at that position (x is read again to find it).
 */
function maxPoolPlanes(x: usize, out: usize, g: usize, dx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, k: i32, stride: i32, pad: i32, backward: bool, tid: i32, nt: i32): void {
  const p1 = part(planes, tid + 1, nt);
  for (let p = part(planes, tid, nt); p < p1; p++) {
    const base = <usize>p * <usize>(h * w);
    let o = <usize>p * <usize>(oh * ow);
    for (let oi = 0; oi < oh; oi++) {
      const i0 = max(oi * stride - pad, 0);
      const i1 = min(oi * stride - pad + k, h);
      for (let oj = 0; oj < ow; oj++, o++) {
        const j0 = max(oj * stride - pad, 0);
        const j1 = min(oj * stride - pad + k, w);
        let best: f32 = -Infinity;
        let at: usize = -1;
        for (let i = i0; i < i1; i++) {
          for (let j = j0; j < j1; j++) {
            const e = base + <usize>(i * w + j);
            const v = load<f32>(x + e * 4);
            if (v > best || at == -1) {
              best = v;
              at = e;
            }
          }
        }
        if (backward) store<f32>(dx + at * 4, load<f32>(dx + at * 4) + load<f32>(g + o * 4));
        else store<f32>(out + o * 4, best);
      }
    }
  }
}

export function maxPool(x: usize, out: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, k: i32, stride: i32, pad: i32, tid: i32, nt: i32): void {
  maxPoolPlanes(x, out, 0, 0, planes, h, w, oh, ow, k, stride, pad, false, tid, nt);
}

export function maxPoolBackward(x: usize, g: usize, dx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, k: i32, stride: i32, pad: i32, tid: i32, nt: i32): void {
  maxPoolPlanes(x, 0, g, dx, planes, h, w, oh, ow, k, stride, pad, true, tid, nt);
}

/** Bytes of private workspace one thread needs for convImages (a multiple of 64): the gemm's, then two c·k·k × l matrices. */
export function convWorkspaceBytes(c: i32, k: i32, l: i32): i32 {
  return gemmWorkspaceBytes() + (2 * c * k * k * l * 4 + 63) / 64 * 64;
}

/**
 * A convolution over whole images, each image on one thread (claimed through the i32 at `counter`, zero
 * before the call, when nt > 1), with its column matrix in that thread's workspace (so it stays in cache).
 * x [n, c, h, w], weight [o, c·k·k], g and out [n, o, oh·ow]. Forward: out_b = weight·cols_b (+ bias per
 * channel). Backward, with images cut into `groups` fixed runs: gw + q·stride (the run's partial weight
 * gradient, stride o·c·k·k floats rounded up to 64 bytes) = Σ over its images in order of g_b·cols_bᵀ, when gw is not 0; gx_b += col2im(weightᵀ·g_b),
 * when gx is not 0. Which thread takes an image or run never changes how it is computed.
 */
export function convImages(
  x: usize, weight: usize, bias: usize, out: usize, g: usize, gw: usize, gx: usize, backward: bool, groups: i32,
  n: i32, c: i32, h: i32, w: i32, o: i32, k: i32, stride: i32, pad: i32, work: usize, counter: usize, tid: i32, nt: i32,
): void {
  const oh = (h + 2 * pad - k) / stride + 1;
  const ow = (w + 2 * pad - k) / stride + 1;
  const l = oh * ow;
  const kk = c * k * k;
  const ws = work + <usize>tid * <usize>convWorkspaceBytes(c, k, l);
  const cols = ws + <usize>gemmWorkspaceBytes();
  const gcols = cols + <usize>kk * <usize>l * 4;
  const img = <usize>(c * h * w) * 4;
  const plane = <usize>(o * l) * 4;
  const items = backward ? groups : n;
  for (let q = 0; ; q++) {
    const item = nt == 1 ? q : atomic.add<i32>(counter, 1);
    if (item >= items) break;
    if (!backward) {
      im2col(x + <usize>item * img, cols, c, h, w, k, k, stride, pad, 0, 1);
      const ob = out + <usize>item * plane;
      gemmSerial(weight, cols, ob, o, l, kk, false, false, false, ws);
      if (bias != 0) {
        for (let ch = 0; ch < o; ch++) {
          const row = ob + <usize>(ch * l) * 4;
          const bv = load<f32>(bias + <usize>ch * 4);
          const bb = f32x4.splat(bv);
          let j = 0;
          for (; j + 4 <= l; j += 4) v128.store(row + <usize>j * 4, f32x4.add(v128.load(row + <usize>j * 4), bb));
          for (; j < l; j++) store<f32>(row + <usize>j * 4, load<f32>(row + <usize>j * 4) + bv);
        }
      }
      continue;
    }
    const b0 = part(n, item, groups);
    const b1 = part(n, item + 1, groups);
    const partial = gw + <usize>item * <usize>((o * kk * 4 + 63) / 64 * 64);
    for (let b = b0; b < b1; b++) {
      const gb = g + <usize>b * plane;
      if (gw != 0) {
        im2col(x + <usize>b * img, cols, c, h, w, k, k, stride, pad, 0, 1);
        gemmSerial(gb, cols, partial, o, kk, l, false, true, b > b0, ws);
      }
      if (gx != 0) {
        gemmSerial(weight, gb, gcols, kk, l, o, true, false, false, ws);
        col2im(gcols, gx + <usize>b * img, c, h, w, k, k, stride, pad, 0, 1);
      }
    }
  }
}
