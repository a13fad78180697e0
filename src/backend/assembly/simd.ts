// SIMD helpers shared by the kernels.

/** f32x4 multiply-add: the fused relaxed-SIMD instruction when this build enables it, else multiply then add. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Stores the transpose of the 4×4 block whose rows are r0..r3: its rows go to dst, dst + stride, … */
// @ts-ignore: decorator
@inline export function store4x4T(dst: usize, stride: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(dst + stride, i64x2.shuffle(t0, t1, 1, 3));
  v128.store(dst + 2 * stride, i64x2.shuffle(t2, t3, 0, 2));
  v128.store(dst + 3 * stride, i64x2.shuffle(t2, t3, 1, 3));
}
