// Fused dropout: Philox4x32-10 mask generation and application, bit-identical to the JavaScript reference
// (src/random/philox.ts stream layout: word i of key (k0, k1) is word i mod 4 of the block with counter
// [i / 4 low, i / 4 high, 0, 0]). Eight blocks (32 words) are generated at once, as two independent sets of
// four (one block per SIMD lane), so the two multiply chains overlap.

// @ts-ignore: decorator
@inline const M0: u32 = 0xd2511f53;
// @ts-ignore: decorator
@inline const M1: u32 = 0xcd9e8d57;
// @ts-ignore: decorator
@inline const W0: u32 = 0x9e3779b9;
// @ts-ignore: decorator
@inline const W1: u32 = 0xbb67ae85;

let w0: u32 = 0;
let w1: u32 = 0;
let w2: u32 = 0;
let w3: u32 = 0;

/** One block for counter (c0, c1, 0, 0) into the globals w0..w3. */
function philoxBlock(k0: u32, k1: u32, c0: u32, c1: u32): void {
  let x0 = c0, x1 = c1, x2: u32 = 0, x3: u32 = 0;
  let y0 = k0, y1 = k1;
  for (let r = 0; r < 10; r++) {
    const p0 = <u64>M0 * <u64>x0;
    const p1 = <u64>M1 * <u64>x2;
    x0 = <u32>(p1 >> 32) ^ x1 ^ y0;
    x1 = <u32>p1;
    x2 = <u32>(p0 >> 32) ^ x3 ^ y1;
    x3 = <u32>p0;
    y0 += W0;
    y1 += W1;
  }
  w0 = x0;
  w1 = x1;
  w2 = x2;
  w3 = x3;
}

/**
 * Unit j from its stream word, in the reference's arithmetic (the product in double precision); the masks
 * are written when their addresses are not 0.
 */
// @ts-ignore: decorator
@inline function unit(word: u32, keepP: f32, scale: f64, x: usize, out: usize, mask: usize, keep: usize, j: usize): void {
  const u = <f32>(word >>> 8) * 5.9604644775390625e-8;
  const kept = u < keepP;
  if (mask != 0) store<f32>(mask + j * 4, kept ? <f32>scale : 0);
  if (keep != 0) store<u8>(keep + j, kept ? 1 : 0);
  store<f32>(out + j * 4, <f32>(<f64>load<f32>(x + j * 4) * (kept ? scale : 0)));
}

/** Units [j0, j1) whose stream words are offset + j, word by word. */
function dropoutScalar(k0: u32, k1: u32, offset: u64, keepP: f32, scale: f64, x: usize, out: usize, mask: usize, keep: usize, j0: usize, j1: usize): void {
  let j = j0;
  while (j < j1) {
    const i = offset + <u64>j;
    const blk = i >> 2;
    philoxBlock(k0, k1, <u32>blk, <u32>(blk >> 32));
    for (let w = <i32>(i & 3); w < 4 && j < j1; w++, j++) {
      const word = w == 0 ? w0 : w == 1 ? w1 : w == 2 ? w2 : w3;
      unit(word, keepP, scale, x, out, mask, keep, j);
    }
  }
}

/**
 * Four units scaled by a mask of all-ones (kept) or zero lanes: float32(x · scale) or x · 0. With a float32
 * scale that is one float32 multiply (the double product of two floats is exact, so rounding it once gives
 * the same bits); otherwise the product is taken in double precision, as the reference does.
 */
// @ts-ignore: decorator
@inline function scaled(xv: v128, kept: v128, exact: bool, scaleF: v128, scale2: v128): v128 {
  if (exact) return f32x4.mul(xv, v128.and(scaleF, kept));
  const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(xv), scale2));
  const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(i64x2.shuffle(xv, xv, 1, 1)), scale2));
  return v128.bitselect(i64x2.shuffle(lo, hi, 0, 2), f32x4.mul(xv, f32x4.splat(0)), kept);
}

/** Kept lanes (all ones) of four stream words: u(word) < keep, as (word >> 8) < threshold = ⌈keep·2^24⌉. */
// @ts-ignore: decorator
@inline function keptOf(words: v128, threshold: v128): v128 {
  return i32x4.lt_s(i32x4.shr_u(words, 8), threshold);
}

/** Units j..j+3 from their kept lanes. */
// @ts-ignore: decorator
@inline function apply4(kept: v128, exact: bool, scaleF: v128, scale2: v128, x: usize, out: usize, mask: usize, j: usize): void {
  if (mask != 0) v128.store(mask + j * 4, v128.and(scaleF, kept));
  v128.store(out + j * 4, scaled(v128.load(x + j * 4), kept, exact, scaleF, scale2));
}

/** Sixteen kept masks (all-ones lanes, four vectors) as sixteen bytes of 1 (kept) or 0. */
// @ts-ignore: decorator
@inline function keepBytes(a: v128, b: v128, c: v128, d: v128): v128 {
  return v128.and(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)), i8x16.splat(1));
}

/** High 32 bits of four u32 products from their 64-bit halves (extmul low, extmul high). */
// @ts-ignore: decorator
@inline function hi32(l: v128, h: v128): v128 {
  return i32x4.shuffle(l, h, 1, 3, 5, 7);
}
/** Low 32 bits of the same products. */
// @ts-ignore: decorator
@inline function lo32(l: v128, h: v128): v128 {
  return i32x4.shuffle(l, h, 0, 2, 4, 6);
}

/**
 * Thread tid of nt handles its share of units [0, n): unit j keeps when the uniform of stream word
 * offset + j is below keep; out[j] = f32(x[j] · (kept ? scale : 0)), mask[j] = kept ? f32(scale) : 0 (unless
 * mask is 0) and keep[j] = kept ? 1 : 0 (one byte per unit, unless keep is 0).
 */
export function dropout(k0: u32, k1: u32, offset: f64, keepP: f32, scale: f64, x: usize, out: usize, mask: usize, keep: usize, n: i32, tid: i32, nt: i32): void {
  const off = <u64>offset;
  // Share boundaries fall on whole groups of 16 stream words.
  const lead = <i64>((16 - <i32>(off & 15)) & 15);
  const groups = max<i64>(0, (<i64>n - lead) >> 4);
  const g0 = groups * <i64>tid / <i64>nt;
  const g1 = groups * <i64>(tid + 1) / <i64>nt;
  const j0: usize = tid == 0 ? 0 : <usize>(min<i64>(<i64>n, lead + g0 * 16));
  const j1: usize = tid == nt - 1 ? <usize>n : <usize>(min<i64>(<i64>n, lead + g1 * 16));
  let j = j0;
  const simdStart = <usize>min<i64>(<i64>j1, lead);
  if (j < simdStart) {
    dropoutScalar(k0, k1, off, keepP, scale, x, out, mask, keep, j, simdStart);
    j = simdStart;
  }
  const threshold = i32x4.splat(<i32>Math.ceil(<f64>keepP * 16777216.0));
  const exact = <f64><f32>scale == scale;
  const scaleF = f32x4.splat(<f32>scale);
  const scale2 = f64x2.splat(scale);
  const m0 = i32x4.splat(M0);
  const m1 = i32x4.splat(M1);
  for (; j + 32 <= j1; j += 32) {
    const blk = (off + <u64>j) >> 2;
    // Set a: blocks blk..blk+3, set b: blk+4..blk+7 (lane b of each vector is one block).
    let a0 = i32x4(<i32>blk, <i32>(blk + 1), <i32>(blk + 2), <i32>(blk + 3));
    let a1 = i32x4(<i32>(blk >> 32), <i32>((blk + 1) >> 32), <i32>((blk + 2) >> 32), <i32>((blk + 3) >> 32));
    let b0 = i32x4(<i32>(blk + 4), <i32>(blk + 5), <i32>(blk + 6), <i32>(blk + 7));
    let b1 = i32x4(<i32>((blk + 4) >> 32), <i32>((blk + 5) >> 32), <i32>((blk + 6) >> 32), <i32>((blk + 7) >> 32));
    let a2 = i32x4.splat(0), a3 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
    let y0 = k0, y1 = k1;
    for (let r = 0; r < 10; r++) {
      const ky0 = i32x4.splat(y0), ky1 = i32x4.splat(y1);
      const pa0l = i64x2.extmul_low_i32x4_u(a0, m0), pa0h = i64x2.extmul_high_i32x4_u(a0, m0);
      const pa1l = i64x2.extmul_low_i32x4_u(a2, m1), pa1h = i64x2.extmul_high_i32x4_u(a2, m1);
      const pb0l = i64x2.extmul_low_i32x4_u(b0, m0), pb0h = i64x2.extmul_high_i32x4_u(b0, m0);
      const pb1l = i64x2.extmul_low_i32x4_u(b2, m1), pb1h = i64x2.extmul_high_i32x4_u(b2, m1);
      a0 = v128.xor(v128.xor(hi32(pa1l, pa1h), a1), ky0);
      a1 = lo32(pa1l, pa1h);
      a2 = v128.xor(v128.xor(hi32(pa0l, pa0h), a3), ky1);
      a3 = lo32(pa0l, pa0h);
      b0 = v128.xor(v128.xor(hi32(pb1l, pb1h), b1), ky0);
      b1 = lo32(pb1l, pb1h);
      b2 = v128.xor(v128.xor(hi32(pb0l, pb0h), b3), ky1);
      b3 = lo32(pb0l, pb0h);
      y0 += W0;
      y1 += W1;
    }
    // Transpose each set so that each vector holds one block's four words (units in order).
    let t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
    let t2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
    const ka0 = keptOf(i64x2.shuffle(t0, t1, 0, 2), threshold), ka1 = keptOf(i64x2.shuffle(t0, t1, 1, 3), threshold);
    const ka2 = keptOf(i64x2.shuffle(t2, t3, 0, 2), threshold), ka3 = keptOf(i64x2.shuffle(t2, t3, 1, 3), threshold);
    t0 = i32x4.shuffle(b0, b1, 0, 4, 1, 5);
    t1 = i32x4.shuffle(b2, b3, 0, 4, 1, 5);
    t2 = i32x4.shuffle(b0, b1, 2, 6, 3, 7);
    t3 = i32x4.shuffle(b2, b3, 2, 6, 3, 7);
    const kb0 = keptOf(i64x2.shuffle(t0, t1, 0, 2), threshold), kb1 = keptOf(i64x2.shuffle(t0, t1, 1, 3), threshold);
    const kb2 = keptOf(i64x2.shuffle(t2, t3, 0, 2), threshold), kb3 = keptOf(i64x2.shuffle(t2, t3, 1, 3), threshold);
    apply4(ka0, exact, scaleF, scale2, x, out, mask, j);
    apply4(ka1, exact, scaleF, scale2, x, out, mask, j + 4);
    apply4(ka2, exact, scaleF, scale2, x, out, mask, j + 8);
    apply4(ka3, exact, scaleF, scale2, x, out, mask, j + 12);
    apply4(kb0, exact, scaleF, scale2, x, out, mask, j + 16);
    apply4(kb1, exact, scaleF, scale2, x, out, mask, j + 20);
    apply4(kb2, exact, scaleF, scale2, x, out, mask, j + 24);
    apply4(kb3, exact, scaleF, scale2, x, out, mask, j + 28);
    if (keep != 0) {
      v128.store(keep + j, keepBytes(ka0, ka1, ka2, ka3));
      v128.store(keep + j + 16, keepBytes(kb0, kb1, kb2, kb3));
    }
  }
  if (j < j1) dropoutScalar(k0, k1, off, keepP, scale, x, out, mask, keep, j, j1);
}

/**
 * The backward of dropout from its byte mask: out[j] = f32(g[j] · (keep[j] != 0 ? scale : 0)), the product
 * in double precision (one float32 multiply when scale is a float32). Thread tid of nt takes its share of
 * [0, n) split on multiples of 16.
 */
export function dropoutApply(keep: usize, scale: f64, g: usize, out: usize, n: i32, tid: i32, nt: i32): void {
  const groups = <i64>(n >> 4);
  const j1: usize = tid == nt - 1 ? <usize>n : <usize>(groups * <i64>(tid + 1) / <i64>nt) * 16;
  let j: usize = <usize>(groups * <i64>tid / <i64>nt) * 16;
  const exact = <f64><f32>scale == scale;
  const scaleF = f32x4.splat(<f32>scale);
  const scale2 = f64x2.splat(scale);
  const zero = i8x16.splat(0);
  for (; j + 16 <= j1; j += 16) {
    const m = i8x16.ne(v128.load(keep + j), zero);
    const lo = i16x8.extend_low_i8x16_s(m), hi = i16x8.extend_high_i8x16_s(m);
    apply4(i32x4.extend_low_i16x8_s(lo), exact, scaleF, scale2, g, out, 0, j);
    apply4(i32x4.extend_high_i16x8_s(lo), exact, scaleF, scale2, g, out, 0, j + 4);
    apply4(i32x4.extend_low_i16x8_s(hi), exact, scaleF, scale2, g, out, 0, j + 8);
    apply4(i32x4.extend_high_i16x8_s(hi), exact, scaleF, scale2, g, out, 0, j + 12);
  }
  for (; j < j1; j++) store<f32>(out + j * 4, <f32>(<f64>load<f32>(g + j * 4) * (load<u8>(keep + j) != 0 ? scale : 0)));
}
