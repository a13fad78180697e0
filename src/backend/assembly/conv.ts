// Convolution and pooling, stride s, zero padding p, dilation 1. im2col/col2im for one image use the same
// loops as the JavaScript reference, so results are bit-identical; threads split im2col by rows of cols,
// col2im by channels and the pools by planes (each plane of dx is only touched by its own rows, added in the
// reference's order), so any thread count gives the same bits. Stride-1 convolutions skip the column matrix
// (convForward/convBackward below); other strides go through im2col and the matrix product (convImages).

import { gemmSerial, gemmWorkspaceBytes } from "./gemm";
import { madd, store4x4T } from "./simd";

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

/**
 * maxPoolPlanes for 2×2 windows, stride 2, no padding, four outputs at a time: of the window's values a0, a1
 * (top row), a2, a3 (bottom row) in the scalar loop's order, each replaces the best so far when greater, so
 * the same value wins (a NaN only as a0). Backward adds g only at the winner's position (others untouched).
 */
function maxPool2x2(x: usize, out: usize, g: usize, dx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, backward: bool, tid: i32, nt: i32): void {
  const p1 = part(planes, tid + 1, nt);
  for (let p = part(planes, tid, nt); p < p1; p++) {
    for (let oi = 0; oi < oh; oi++) {
      const top = <usize>p * <usize>(h * w) + <usize>(2 * oi * w);
      const bottom = top + <usize>w;
      const o = <usize>p * <usize>(oh * ow) + <usize>(oi * ow);
      let oj = 0;
      for (; oj + 4 <= ow; oj += 4) {
        const t0 = v128.load(x + (top + <usize>(2 * oj)) * 4), t1 = v128.load(x + (top + <usize>(2 * oj)) * 4, 16);
        const u0 = v128.load(x + (bottom + <usize>(2 * oj)) * 4), u1 = v128.load(x + (bottom + <usize>(2 * oj)) * 4, 16);
        const a0 = i32x4.shuffle(t0, t1, 0, 2, 4, 6), a1 = i32x4.shuffle(t0, t1, 1, 3, 5, 7);
        const a2 = i32x4.shuffle(u0, u1, 0, 2, 4, 6), a3 = i32x4.shuffle(u0, u1, 1, 3, 5, 7);
        const s1 = f32x4.gt(a1, a0);
        let best = v128.bitselect(a1, a0, s1);
        const s2 = f32x4.gt(a2, best);
        best = v128.bitselect(a2, best, s2);
        const s3 = f32x4.gt(a3, best);
        best = v128.bitselect(a3, best, s3);
        if (!backward) {
          v128.store(out + (o + <usize>oj) * 4, best);
          continue;
        }
        // Winner masks: a3 if s3, else a2 if s2, else a1 if s1, else a0.
        const w3 = s3;
        const w2 = v128.andnot(s2, s3);
        const w1 = v128.andnot(s1, v128.or(s2, s3));
        const w0 = v128.not(v128.or(s1, v128.or(s2, s3)));
        const gv = v128.load(g + (o + <usize>oj) * 4);
        const glo = i32x4.shuffle(gv, gv, 0, 0, 1, 1), ghi = i32x4.shuffle(gv, gv, 2, 2, 3, 3);
        addWhere(dx + (top + <usize>(2 * oj)) * 4, glo, i32x4.shuffle(w0, w1, 0, 4, 1, 5));
        addWhere(dx + (top + <usize>(2 * oj)) * 4 + 16, ghi, i32x4.shuffle(w0, w1, 2, 6, 3, 7));
        addWhere(dx + (bottom + <usize>(2 * oj)) * 4, glo, i32x4.shuffle(w2, w3, 0, 4, 1, 5));
        addWhere(dx + (bottom + <usize>(2 * oj)) * 4 + 16, ghi, i32x4.shuffle(w2, w3, 2, 6, 3, 7));
      }
      for (; oj < ow; oj++) {
        const e0 = top + <usize>(2 * oj);
        let at = e0;
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) {
            const e = e0 + <usize>(i * w + j);
            if (load<f32>(x + e * 4) > load<f32>(x + at * 4)) at = e;
          }
        }
        if (backward) store<f32>(dx + at * 4, load<f32>(dx + at * 4) + load<f32>(g + (o + <usize>oj) * 4));
        else store<f32>(out + (o + <usize>oj) * 4, load<f32>(x + at * 4));
      }
    }
  }
}

/** dst[lane] += v[lane] where mask is set; other lanes keep their bits. */
// @ts-ignore: decorator
@inline function addWhere(dst: usize, v: v128, mask: v128): void {
  const d = v128.load(dst);
  v128.store(dst, v128.bitselect(f32x4.add(d, v), d, mask));
}

export function maxPool(x: usize, out: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, k: i32, stride: i32, pad: i32, tid: i32, nt: i32): void {
  if (k == 2 && stride == 2 && pad == 0) maxPool2x2(x, out, 0, 0, planes, h, w, oh, ow, false, tid, nt);
  else maxPoolPlanes(x, out, 0, 0, planes, h, w, oh, ow, k, stride, pad, false, tid, nt);
}

export function maxPoolBackward(x: usize, g: usize, dx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, k: i32, stride: i32, pad: i32, tid: i32, nt: i32): void {
  if (k == 2 && stride == 2 && pad == 0) maxPool2x2(x, 0, g, dx, planes, h, w, oh, ow, true, tid, nt);
  else maxPoolPlanes(x, 0, g, dx, planes, h, w, oh, ow, k, stride, pad, true, tid, nt);
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

// ---- Stride-1 convolution straight from padded images (no column matrix) ----
// The forward pass and the input gradient are both a stride-1 convolution of a zero-padded image with packed
// weights: out[m, i, j] = Σ_p A[m, p] · img[off[p] + i·wp + j], p running over the taps (channel, ki, kj). A tile
// of 4 output channels × 8 neighbouring columns loads its 8 inputs per tap straight from the image. The weight
// gradient reduces over the positions instead: gw[oc, p] = Σ_(i, j) g[oc, i, j] · img[off[p] + i·wp + j]. Each
// output element is summed on one thread, in the im2col path's order while c·k·k, oh·ow and o each fit one K
// block of the matrix product (1024): the same bits as that path, whatever the thread count.

/** Floats a padded image may be read past its end (a tile's last columns beyond the row). */
// @ts-ignore: decorator
@inline const SLACK = 16;

// @ts-ignore: decorator
@inline function bytes64(floats: i32): usize {
  return <usize>((floats * 4 + 63) / 64 * 64);
}

/** dst [c, hp, wp] = src [c, h, w] moved `pad` rows and columns down and right (cropped when negative), zeros elsewhere. */
function padPlanes(src: usize, dst: usize, c: i32, h: i32, w: i32, hp: i32, wp: i32, pad: i32): void {
  memory.fill(dst, 0, <usize>(c * hp * wp + SLACK) * 4);
  const i0 = max(pad, 0), i1 = min(h + pad, hp);
  const j0 = max(pad, 0), j1 = min(w + pad, wp);
  if (j1 <= j0) return;
  for (let ci = 0; ci < c; ci++) {
    for (let i = i0; i < i1; i++) {
      memory.copy(dst + <usize>((ci * hp + i) * wp + j0) * 4, src + <usize>((ci * h + i - pad) * w + j0 - pad) * 4, <usize>(j1 - j0) * 4);
    }
  }
}

/**
 * Packs the weights [o, c, k, k] of a stride-1 convolution in panels of 4 rows: panel q holds, for each tap p,
 * the values A[4q + r, p] (zero past the last row). Forward: A [o, c·k·k] is the weight itself. With `flip`, A is
 * the input gradient's operand [c, k·k·o], taps ordered (kernel position, output channel):
 * A[ci, t·o + oc] = weight[oc, ci, t].
 */
export function convPackWeights(weight: usize, dst: usize, o: i32, c: i32, k: i32, flip: bool): void {
  const kk = k * k;
  const rows = flip ? c : o;
  const taps = c * kk * o / rows;
  for (let q = 0; q < rows; q += 4) {
    const panel = dst + <usize>q * <usize>taps * 4;
    for (let p = 0; p < taps; p++) {
      for (let r = 0; r < 4; r++) {
        const row = q + r;
        let v: f32 = 0;
        if (row < rows) v = load<f32>(weight + <usize>(flip ? (p % o * c + row) * kk + p / o : row * taps + p) * 4);
        store<f32>(panel + <usize>(p * 4 + r) * 4, v);
      }
    }
  }
}

/**
 * Byte offsets of the taps of a k×k window in an image of c planes hp×wp: channel-major (channel, ki, kj), or
 * with `flip` the input gradient's order (t = ki·k + kj, channel) at the mirrored position (k−1−ki, k−1−kj).
 */
export function convOffsets(dst: usize, c: i32, k: i32, hp: i32, wp: i32, flip: bool): void {
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < k; ki++) {
      for (let kj = 0; kj < k; kj++) {
        const p = flip ? (ki * k + kj) * c + ci : (ci * k + ki) * k + kj;
        const at = flip ? (ci * hp + k - 1 - ki) * wp + k - 1 - kj : (ci * hp + ki) * wp + kj;
        store<i32>(dst + <usize>p * 4, at * 4);
      }
    }
  }
}

/**
 * One tile: C[r, j] for r < rows ≤ 4, j < cols ≤ 8 (row stride ldc floats). The taps are summed in chunks of
 * `chunk` (each sum from zero, in tap order), and the chunk sums are added in order to C (when add) or to the
 * first one, then bias[r] is added (when bias ≠ 0).
 */
function directTile(ap: usize, offs: usize, taps: i32, chunk: i32, src: usize, c: usize, ldc: i32, rows: i32, cols: i32, bias: usize, add: bool, tile: usize): void {
  if (add) moveTile(c, ldc, tile, rows, cols, true);
  for (let p0 = 0; p0 < taps; p0 += chunk) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const end = offs + <usize>min(p0 + chunk, taps) * 4;
    for (let o = offs + <usize>p0 * 4; o < end; o += 4) {
      const s = src + <usize>load<i32>(o);
      const b0 = v128.load(s);
      const b1 = v128.load(s, 16);
      let a = v128.load32_splat(ap);
      c00 = madd(a, b0, c00);
      c01 = madd(a, b1, c01);
      a = v128.load32_splat(ap, 4);
      c10 = madd(a, b0, c10);
      c11 = madd(a, b1, c11);
      a = v128.load32_splat(ap, 8);
      c20 = madd(a, b0, c20);
      c21 = madd(a, b1, c21);
      a = v128.load32_splat(ap, 12);
      c30 = madd(a, b0, c30);
      c31 = madd(a, b1, c31);
      ap += 16;
    }
    if (p0 > 0 || add) {
      c00 = f32x4.add(v128.load(tile), c00);
      c01 = f32x4.add(v128.load(tile, 16), c01);
      c10 = f32x4.add(v128.load(tile, 32), c10);
      c11 = f32x4.add(v128.load(tile, 48), c11);
      c20 = f32x4.add(v128.load(tile, 64), c20);
      c21 = f32x4.add(v128.load(tile, 80), c21);
      c30 = f32x4.add(v128.load(tile, 96), c30);
      c31 = f32x4.add(v128.load(tile, 112), c31);
    }
    v128.store(tile, c00);
    v128.store(tile, c01, 16);
    v128.store(tile, c10, 32);
    v128.store(tile, c11, 48);
    v128.store(tile, c20, 64);
    v128.store(tile, c21, 80);
    v128.store(tile, c30, 96);
    v128.store(tile, c31, 112);
  }
  if (bias != 0) {
    for (let r = 0; r < rows; r++) {
      const t = tile + <usize>r * 32, bv = v128.load32_splat(bias + <usize>r * 4);
      v128.store(t, f32x4.add(v128.load(t), bv));
      v128.store(t, f32x4.add(v128.load(t, 16), bv), 16);
    }
  }
  moveTile(c, ldc, tile, rows, cols, false);
}

/** Copies the rows × cols part of C (row stride ldc floats) into a 4×8 tile (row stride 8), or back when !in. */
function moveTile(c: usize, ldc: i32, tile: usize, rows: i32, cols: i32, into: bool): void {
  for (let r = 0; r < rows; r++) {
    const d = c + <usize>r * <usize>ldc * 4;
    const t = tile + <usize>r * 32;
    if (cols == 8) {
      if (into) {
        v128.store(t, v128.load(d));
        v128.store(t, v128.load(d, 16), 16);
      } else {
        v128.store(d, v128.load(t));
        v128.store(d, v128.load(t, 16), 16);
      }
      continue;
    }
    for (let j = 0; j < cols; j++) {
      if (into) store<f32>(t + <usize>j * 4, load<f32>(d + <usize>j * 4));
      else store<f32>(d + <usize>j * 4, load<f32>(t + <usize>j * 4));
    }
  }
}

/**
 * out [rows, oh, ow] (+)= the stride-1 convolution of the padded image src (planes of row length wp) with the
 * packed panels ap over `taps` taps at offsets offs, summed in chunks as directTile does; + bias per row.
 */
function directImage(ap: usize, offs: usize, taps: i32, chunk: i32, src: usize, wp: i32, out: usize, rows: i32, oh: i32, ow: i32, bias: usize, add: bool, tile: usize): void {
  const l = oh * ow;
  for (let q = 0; q < rows; q += 4) {
    const panel = ap + <usize>q * <usize>taps * 4;
    const bq = bias != 0 ? bias + <usize>q * 4 : 0;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j += 8) {
        const c = out + <usize>(q * l + i * ow + j) * 4;
        directTile(panel, offs, taps, chunk, src + <usize>(i * wp + j) * 4, c, l, min(4, rows - q), min(8, ow - j), bq, add, tile);
      }
    }
  }
}

/** gp [⌈o/8⌉ panels][l][8] = g [o, l] transposed in panels of 8 channels (zero past o). */
function packChannels(g: usize, gp: usize, o: i32, l: i32): void {
  const row = <usize>l * 4;
  for (let q = 0; q < o; q += 8) {
    const panel = gp + <usize>q * <usize>l * 4;
    if (q + 8 <= o && l % 4 == 0) {
      // Blocks of 4 channels × 4 positions, transposed.
      for (let r = 0; r < 8; r += 4) {
        const s = g + <usize>(q + r) * row;
        for (let j = 0; j < l; j += 4) {
          const at = s + <usize>j * 4;
          store4x4T(panel + <usize>(j * 8 + r) * 4, 32, v128.load(at), v128.load(at + row), v128.load(at + 2 * row), v128.load(at + 3 * row));
        }
      }
      continue;
    }
    for (let r = 0; r < 8; r++) {
      const d = panel + <usize>r * 4;
      if (q + r < o) {
        const s = g + <usize>(q + r) * <usize>l * 4;
        for (let j = 0; j < l; j++) store<f32>(d + <usize>j * 32, load<f32>(s + <usize>j * 4));
      } else {
        for (let j = 0; j < l; j++) store<f32>(d + <usize>j * 32, 0);
      }
    }
  }
}

/**
 * gw [o, taps] (+ gw when add) = Σ over positions (i, j) of g[oc, i, j] · src[off[p] + i·wp + j], in position
 * order; gp is g packed by packChannels. Tiles of 4 taps × 8 channels.
 */
function weightImage(gp: usize, offs: usize, taps: i32, src: usize, wp: i32, oh: i32, ow: i32, o: i32, gw: usize, add: bool, tile: usize): void {
  const l = oh * ow;
  const skip = <usize>(wp - ow) * 4;
  for (let q = 0; q < o; q += 8) {
    const panel = gp + <usize>q * <usize>l * 4;
    for (let p = 0; p < taps; p += 4) {
      const s0 = src + <usize>load<i32>(offs + <usize>p * 4);
      const s1 = src + <usize>load<i32>(offs + <usize>min(p + 1, taps - 1) * 4);
      const s2 = src + <usize>load<i32>(offs + <usize>min(p + 2, taps - 1) * 4);
      const s3 = src + <usize>load<i32>(offs + <usize>min(p + 3, taps - 1) * 4);
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let bp = panel;
      let e: usize = 0;
      for (let i = 0; i < oh; i++, e += skip) {
        for (let j = 0; j < ow; j++, e += 4) {
          const b0 = v128.load(bp);
          const b1 = v128.load(bp, 16);
          let a = v128.load32_splat(s0 + e);
          c00 = madd(a, b0, c00);
          c01 = madd(a, b1, c01);
          a = v128.load32_splat(s1 + e);
          c10 = madd(a, b0, c10);
          c11 = madd(a, b1, c11);
          a = v128.load32_splat(s2 + e);
          c20 = madd(a, b0, c20);
          c21 = madd(a, b1, c21);
          a = v128.load32_splat(s3 + e);
          c30 = madd(a, b0, c30);
          c31 = madd(a, b1, c31);
          bp += 32;
        }
      }
      v128.store(tile, c00);
      v128.store(tile, c01, 16);
      v128.store(tile, c10, 32);
      v128.store(tile, c11, 48);
      v128.store(tile, c20, 64);
      v128.store(tile, c21, 80);
      v128.store(tile, c30, 96);
      v128.store(tile, c31, 112);
      // The tile is [tap][channel]; gw is [channel][tap].
      const rows = min(4, taps - p), cols = min(8, o - q);
      for (let jj = 0; jj < cols; jj++) {
        const d = gw + (<usize>(q + jj) * <usize>taps + <usize>p) * 4;
        for (let r = 0; r < rows; r++) {
          const v = load<f32>(tile + <usize>(r * 8 + jj) * 4);
          store<f32>(d + <usize>r * 4, add ? load<f32>(d + <usize>r * 4) + v : v);
        }
      }
    }
  }
}

/** Bytes of private workspace one thread needs for convForward/convBackward (a multiple of 64). */
export function convDirectWorkspaceBytes(c: i32, h: i32, w: i32, o: i32, k: i32, pad: i32): i32 {
  const oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1, q = k - 1 - pad;
  const xpad = bytes64(c * (h + 2 * pad) * (w + 2 * pad) + SLACK);
  const gpad = bytes64(o * (oh + 2 * q) * (ow + 2 * q) + SLACK);
  const gpack = bytes64((o + 7) / 8 * 8 * oh * ow);
  return <i32>(xpad + gpad + gpack + bytes64(32));
}

/**
 * Stride-1 convolution, image by image (claimed through the i32 at `counter`, zero before the call, when
 * nt > 1): out [n, o, oh, ow] = conv(x_b padded by pad) (+ bias). ap and offs come from convPackWeights and
 * convOffsets for the padded input (planes (h + 2·pad) × (w + 2·pad)).
 */
export function convForward(
  x: usize, ap: usize, offs: usize, bias: usize, out: usize, n: i32, c: i32, h: i32, w: i32, o: i32, k: i32, pad: i32,
  work: usize, counter: usize, tid: i32, nt: i32,
): void {
  const hp = h + 2 * pad, wp = w + 2 * pad;
  const oh = hp - k + 1, ow = wp - k + 1;
  const ws = work + <usize>tid * <usize>convDirectWorkspaceBytes(c, h, w, o, k, pad);
  const xpad = ws;
  const tile = ws + <usize>convDirectWorkspaceBytes(c, h, w, o, k, pad) - 128;
  for (let q = 0; ; q++) {
    const b = nt == 1 ? q : atomic.add<i32>(counter, 1);
    if (b >= n) break;
    padPlanes(x + <usize>b * <usize>(c * h * w) * 4, xpad, c, h, w, hp, wp, pad);
    directImage(ap, offs, c * k * k, c * k * k, xpad, wp, out + <usize>b * <usize>(o * oh * ow) * 4, o, oh, ow, bias, false, tile);
  }
}

/**
 * Backward of convForward over images cut into `groups` fixed runs (claimed like convForward's images). When gw
 * is not 0: the run's partial weight gradient at gw + q·bytes64(o·c·k·k) = Σ over its images in order of g_b·xᵀ
 * (per image a sum over positions in order, added to the run's sum). When gx is not 0: gx_b += the stride-1
 * convolution of g_b padded by k−1−pad with the flipped weights (apT and offsG from convPackWeights and
 * convOffsets with flip, for planes (oh + 2(k−1−pad)) × (ow + 2(k−1−pad))): per kernel position in order, a sum
 * over the output channels added to gx, as col2im(weightᵀ·g_b) adds (where col2im skips a position outside the
 * image, a +0 is added, which changes only a −0 already in gx). offsX: convOffsets of the padded input.
 */
export function convBackward(
  x: usize, g: usize, apT: usize, offsX: usize, offsG: usize, gw: usize, gx: usize, groups: i32,
  n: i32, c: i32, h: i32, w: i32, o: i32, k: i32, pad: i32, work: usize, counter: usize, tid: i32, nt: i32,
): void {
  const hp = h + 2 * pad, wp = w + 2 * pad;
  const oh = hp - k + 1, ow = wp - k + 1, l = oh * ow;
  const q = k - 1 - pad, hq = oh + 2 * q, wq = ow + 2 * q;
  const size = convDirectWorkspaceBytes(c, h, w, o, k, pad);
  const xpad = work + <usize>tid * <usize>size;
  const gpad = xpad + bytes64(c * hp * wp + SLACK);
  const gpack = gpad + bytes64(o * hq * wq + SLACK);
  const tile = xpad + <usize>size - 128;
  const taps = c * k * k;
  for (let it = 0; ; it++) {
    const run = nt == 1 ? it : atomic.add<i32>(counter, 1);
    if (run >= groups) break;
    const b0 = part(n, run, groups), b1 = part(n, run + 1, groups);
    const partial = gw + <usize>run * bytes64(o * taps);
    for (let b = b0; b < b1; b++) {
      const gb = g + <usize>b * <usize>(o * l) * 4;
      if (gw != 0) {
        padPlanes(x + <usize>b * <usize>(c * h * w) * 4, xpad, c, h, w, hp, wp, pad);
        packChannels(gb, gpack, o, l);
        weightImage(gpack, offsX, taps, xpad, wp, oh, ow, o, partial, b > b0, tile);
      }
      if (gx != 0) {
        padPlanes(gb, gpad, o, oh, ow, hq, wq, q);
        directImage(apT, offsG, o * k * k, o, gpad, wq, gx + <usize>b * <usize>(c * h * w) * 4, c, h, w, 0, true, tile);
      }
    }
  }
}
