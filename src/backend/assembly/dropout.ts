// Fused dropout: Philox4x32-10 mask generation and application, bit-identical to the JavaScript reference
// (src/random/philox.ts stream layout: word i of key (k0, k1) is word i mod 4 of the block with counter
// [i / 4 low, i / 4 high, 0, 0]). Four blocks (16 words) are generated at once, one per SIMD lane.

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

/** One unit with its stream word: the same arithmetic as the reference (product in double precision). */
// @ts-ignore: decorator
@inline function unit(word: u32, keep: f32, scale: f64, x: usize, out: usize, mask: usize, j: usize): void {
  const u = <f32>(word >>> 8) * 5.9604644775390625e-8;
  const xv = load<f32>(x + j * 4);
  const kept = u < keep;
  if (mask != 0) store<f32>(mask + j * 4, kept ? <f32>scale : 0);
  store<f32>(out + j * 4, <f32>(<f64>xv * (kept ? scale : 0)));
}

/** Units [j0, j1) whose stream words are offset + j, word by word. */
function dropoutScalar(k0: u32, k1: u32, offset: u64, keep: f32, scale: f64, x: usize, out: usize, mask: usize, j0: usize, j1: usize): void {
  let j = j0;
  while (j < j1) {
    const i = offset + <u64>j;
    const blk = i >> 2;
    philoxBlock(k0, k1, <u32>blk, <u32>(blk >> 32));
    for (let w = <i32>(i & 3); w < 4 && j < j1; w++, j++) {
      const word = w == 0 ? w0 : w == 1 ? w1 : w == 2 ? w2 : w3;
      unit(word, keep, scale, x, out, mask, j);
    }
  }
}

/** High and low 32-bit halves of m·x for four u32 lanes. */
// @ts-ignore: decorator
@inline function mulLo(x: v128, m: v128): v128 {
  return i32x4.mul(x, m);
}
// @ts-ignore: decorator
@inline function mulHi(x: v128, m: v128): v128 {
  const lo = i64x2.extmul_low_i32x4_u(x, m);
  const hi = i64x2.extmul_high_i32x4_u(x, m);
  return i32x4.shuffle(lo, hi, 1, 3, 5, 7);
}

/** Applies four stream words (as one v128) to units j..j+3. */
// @ts-ignore: decorator
@inline function apply4(words: v128, keep: v128, scaleF: v128, scale2: v128, x: usize, out: usize, mask: usize, j: usize): void {
  const u = f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(words, 8)), f32x4.splat(5.9604644775390625e-8));
  const kept = f32x4.lt(u, keep);
  const xv = v128.load(x + j * 4);
  if (mask != 0) v128.store(mask + j * 4, v128.and(scaleF, kept));
  const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(xv), scale2));
  const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(i64x2.shuffle(xv, xv, 1, 1)), scale2));
  const scaled = i64x2.shuffle(lo, hi, 0, 2);
  v128.store(out + j * 4, v128.bitselect(scaled, f32x4.mul(xv, f32x4.splat(0)), kept));
}

/**
 * Thread tid of nt handles its share of units [0, n): unit j keeps when the uniform of stream word
 * offset + j is below keep; mask[j] = kept ? f32(scale) : 0 (unless mask is 0) and out[j] = f32(x[j] · (kept ? scale : 0)).
 */
export function dropout(k0: u32, k1: u32, offset: f64, keep: f32, scale: f64, x: usize, out: usize, mask: usize, n: i32, tid: i32, nt: i32): void {
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
    dropoutScalar(k0, k1, off, keep, scale, x, out, mask, j, simdStart);
    j = simdStart;
  }
  const keepV = f32x4.splat(keep);
  const scaleF = f32x4.splat(<f32>scale);
  const scale2 = f64x2.splat(scale);
  const m0 = i32x4.splat(M0);
  const m1 = i32x4.splat(M1);
  for (; j + 16 <= j1; j += 16) {
    const blk = (off + <u64>j) >> 2;
    let x0 = i32x4(<i32>blk, <i32>(blk + 1), <i32>(blk + 2), <i32>(blk + 3));
    let x1 = i32x4(<i32>(blk >> 32), <i32>((blk + 1) >> 32), <i32>((blk + 2) >> 32), <i32>((blk + 3) >> 32));
    let x2 = i32x4.splat(0);
    let x3 = i32x4.splat(0);
    let y0 = k0, y1 = k1;
    for (let r = 0; r < 10; r++) {
      const hi0 = mulHi(x0, m0);
      const lo0 = mulLo(x0, m0);
      const hi1 = mulHi(x2, m1);
      const lo1 = mulLo(x2, m1);
      x0 = v128.xor(v128.xor(hi1, x1), i32x4.splat(y0));
      x1 = lo1;
      x2 = v128.xor(v128.xor(hi0, x3), i32x4.splat(y1));
      x3 = lo0;
      y0 += W0;
      y1 += W1;
    }
    // Lane b of x0..x3 is block b's words 0..3: transpose so each v128 holds one block's four words.
    const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
    const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
    const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
    apply4(i64x2.shuffle(t0, t1, 0, 2), keepV, scaleF, scale2, x, out, mask, j);
    apply4(i64x2.shuffle(t0, t1, 1, 3), keepV, scaleF, scale2, x, out, mask, j + 4);
    apply4(i64x2.shuffle(t2, t3, 0, 2), keepV, scaleF, scale2, x, out, mask, j + 8);
    apply4(i64x2.shuffle(t2, t3, 1, 3), keepV, scaleF, scale2, x, out, mask, j + 12);
  }
  if (j < j1) dropoutScalar(k0, k1, off, keep, scale, x, out, mask, j, j1);
}
