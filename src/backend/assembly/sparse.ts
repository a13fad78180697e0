// Matrix product with a mostly-zero left operand (activations after ReLU and dropout, and their gradients):
// op(A) is compressed row by row into its non-zero (k, value) pairs, and each row of C is computed as the sum
// over those pairs of a·op(B)[k, :]. The result is bit for bit gemm's (gemm.ts): each output element is the
// sum over k in ascending order with the same multiply-add, restarted per K block (kBlock) and added to C
// block by block, then the same epilogue. Skipping a product a·b with a == 0 (or -0) changes at most the sign
// of a zero sum, with one exception: where B holds an infinity or NaN and A a zero, gemm gives NaN and this
// path does not.

import { madd, store4x4T } from "./simd";
import { KC, NR, epilogue, kBlock } from "./gemm";

/**
 * Columns of C one register tile covers: 12 f32x4 accumulators. (V8 keeps them, the broadcast value and one
 * loaded vector in its 16 xmm registers only while the loop body is this simple: with C's old value added in
 * the same function it spilled half the accumulators, and ran at half speed.)
 */
// @ts-ignore: decorator
@inline const SW = 48;

/** Bytes of private workspace one thread needs: a packed strip of B (K block × SW columns) and a row of sums. */
export function sparseWorkspaceBytes(): i32 {
  return (KC * SW + SW) * 4;
}

/** Number of K blocks gemm cuts k into. */
function blocks(k: i32): i32 {
  const kStep = kBlock(k);
  return (k + kStep - 1) / kStep;
}

/**
 * Bytes of the index sparsePack writes for an op(A) of m rows and k columns: per row, blocks(k) + 1 i32 entry
 * numbers (where each K block's entries start, then where the row's end).
 */
export function sparseIndexBytes(m: i32, k: i32): i32 {
  return m * (blocks(k) + 1) * 4;
}

/**
 * The non-zeros (and NaNs) among the n floats at a, counted 1024 at a time: once the count passes `limit` it
 * is returned as it stands (some number above limit).
 */
export function sparseCount(a: usize, n: i32, limit: i32): i32 {
  const zero = f32x4.splat(0);
  let count = 0;
  let i = 0;
  while (i + 4 <= n) {
    const end = min(n & ~3, i + 1024);
    let lanes = i32x4.splat(0);
    for (; i < end; i += 4) lanes = i32x4.sub(lanes, f32x4.ne(v128.load(a + <usize>i * 4), zero));
    count += i32x4.extract_lane(lanes, 0) + i32x4.extract_lane(lanes, 1) + i32x4.extract_lane(lanes, 2) + i32x4.extract_lane(lanes, 3);
    if (count > limit) return count;
  }
  for (; i < n; i++) count += i32(load<f32>(a + <usize>i * 4) != 0);
  return count;
}

/**
 * Compresses op(A) (m×k; A stored k×m when transA) into entries: 8 bytes each, the i32 k·SW·4 (where row k of
 * B starts in a packed strip) then the f32 value, in ascending k within a row, row i's from entry i·k on.
 * Row i's index (sparseIndexBytes) gets the entry number where each K block's entries start, then the one
 * past its last. As thread tid of nt, compresses its
 * share of the rows.
 */
export function sparsePack(a: usize, m: i32, k: i32, transA: bool, index: usize, entries: usize, tid: i32, nt: i32): void {
  const kStep = kBlock(k);
  const nb = blocks(k);
  // Element (i, p) of op(A) is at a + i·rowStep + p·colStep.
  const rowStep = transA ? <usize>4 : <usize>k * 4;
  const colStep = transA ? <usize>m * 4 : <usize>4;
  const i1 = <i32>(<i64>m * <i64>(tid + 1) / <i64>nt);
  for (let i = <i32>(<i64>m * <i64>tid / <i64>nt); i < i1; i++) {
    const row = a + <usize>i * rowStep;
    const slots = index + <usize>(i * (nb + 1)) * 4;
    // Every value is written, and the position advances past the non-zeros only: at column p the row holds at
    // most p entries, so the write stays inside its k places.
    let e = i * k;
    for (let b = 0; b < nb; b++) {
      store<i32>(slots + <usize>b * 4, e);
      const p1 = min(k, (b + 1) * kStep);
      for (let p = b * kStep; p < p1; p++) {
        const v = load<f32>(row + <usize>p * colStep);
        const at = entries + <usize>e * 8;
        store<i32>(at, p * SW * 4);
        store<f32>(at, v, 4);
        e += i32(v != 0);
      }
    }
    store<i32>(slots + <usize>nb * 4, e);
  }
}

/**
 * Packs op(B)[pc..pc+kc, js..js+w) (w ≤ SW) into dst row by row, row p at dst + p·SW·4, so that the 48 values
 * an entry multiplies are three cache lines; columns past w keep whatever dst held.
 */
function packStrip(b: usize, n: i32, k: i32, transB: bool, pc: i32, kc: i32, js: i32, w: i32, dst: usize): void {
  if (!transB) {
    for (let p = 0; p < kc; p++) {
      const src = b + (<usize>(pc + p) * <usize>n + <usize>js) * 4;
      const d = dst + <usize>p * SW * 4;
      let j = 0;
      for (; j + 4 <= w; j += 4) v128.store(d + <usize>j * 4, v128.load(src + <usize>j * 4));
      for (; j < w; j++) store<f32>(d + <usize>j * 4, load<f32>(src + <usize>j * 4));
    }
    return;
  }
  // B stored n×k: column j of op(B) is contiguous in p; transpose 4×4 blocks.
  const rs = <usize>k * 4;
  for (let j = 0; j < w; j += 4) {
    const src = b + (<usize>(js + j) * <usize>k + <usize>pc) * 4;
    const cols = min(4, w - j);
    let p = 0;
    if (cols == 4) {
      for (; p + 4 <= kc; p += 4) {
        const s = src + <usize>p * 4;
        store4x4T(dst + <usize>(p * SW + j) * 4, SW * 4, v128.load(s), v128.load(s + rs), v128.load(s + 2 * rs), v128.load(s + 3 * rs));
      }
    }
    for (; p < kc; p++) {
      for (let c = 0; c < cols; c++) store<f32>(dst + <usize>(p * SW + j + c) * 4, load<f32>(src + <usize>c * rs + <usize>p * 4));
    }
  }
}

/** dst[0..48) = Σ a·B[k, 0..48) over the entries [e, end), where B[k, 0..48) is at base + k·SW·4 (packStrip's rows). */
function row48(e: usize, end: usize, base: usize, dst: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  let c8 = f32x4.splat(0), c9 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  for (; e < end; e += 8) {
    const row = base + <usize>load<i32>(e);
    const a = v128.load32_splat(e, 4);
    c0 = madd(a, v128.load(row), c0);
    c1 = madd(a, v128.load(row, 16), c1);
    c2 = madd(a, v128.load(row, 32), c2);
    c3 = madd(a, v128.load(row, 48), c3);
    c4 = madd(a, v128.load(row, 64), c4);
    c5 = madd(a, v128.load(row, 80), c5);
    c6 = madd(a, v128.load(row, 96), c6);
    c7 = madd(a, v128.load(row, 112), c7);
    c8 = madd(a, v128.load(row, 128), c8);
    c9 = madd(a, v128.load(row, 144), c9);
    c10 = madd(a, v128.load(row, 160), c10);
    c11 = madd(a, v128.load(row, 176), c11);
  }
  v128.store(dst, c0);
  v128.store(dst, c1, 16);
  v128.store(dst, c2, 32);
  v128.store(dst, c3, 48);
  v128.store(dst, c4, 64);
  v128.store(dst, c5, 80);
  v128.store(dst, c6, 96);
  v128.store(dst, c7, 112);
  v128.store(dst, c8, 128);
  v128.store(dst, c9, 144);
  v128.store(dst, c10, 160);
  v128.store(dst, c11, 176);
}

/** c[0..48) = c + sum, lane by lane (gemm's order of the two operands). */
function addRow48(c: usize, sum: usize): void {
  for (let j: usize = 0; j < <usize>SW * 4; j += 16) v128.store(c + j, f32x4.add(v128.load(c + j), v128.load(sum + j)));
}

/**
 * C[1×cols] at c (cols ≤ 8) = (add ? C : 0) + Σ a·B[k, 0..8) over the entries [e, end), B[k, 0..8) at
 * base + k·SW·4 (in packStrip's rows); a partial row goes through the 8-float `tile`.
 */
function row8(e: usize, end: usize, base: usize, c: usize, cols: i32, add: bool, tile: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (; e < end; e += 8) {
    const at = base + <usize>load<i32>(e);
    const a = v128.load32_splat(e, 4);
    c0 = madd(a, v128.load(at), c0);
    c1 = madd(a, v128.load(at, 16), c1);
  }
  const dst = cols == NR ? c : tile;
  if (add) {
    if (cols < NR) for (let j = 0; j < cols; j++) store<f32>(tile + <usize>j * 4, load<f32>(c + <usize>j * 4));
    c0 = f32x4.add(v128.load(dst), c0);
    c1 = f32x4.add(v128.load(dst, 16), c1);
  }
  v128.store(dst, c0);
  v128.store(dst, c1, 16);
  if (cols < NR) for (let j = 0; j < cols; j++) store<f32>(c + <usize>j * 4, load<f32>(tile + <usize>j * 4));
}

/**
 * C[i0..i1, j0..j1] of op(A)·op(B) (+ C), then act(C + bias), strip of SW columns by strip: each K block of
 * a strip of op(B) is packed into the workspace (packStrip, contiguous, so the rows the entries pick stay in
 * cache), then every row of C takes its entries of that block.
 */
function sparseBlock(
  index: usize, entries: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transB: bool, accumulate: bool,
  bias: usize, act: i32, ws: usize, i0: i32, i1: i32, j0: i32, j1: i32,
): void {
  const tile = ws + KC * SW * 4;
  const kStep = kBlock(k);
  const nb = blocks(k);
  for (let js = j0; js < j1; js += SW) {
    const w = min(SW, j1 - js);
    for (let blk = 0; blk < nb; blk++) {
      const pc = blk * kStep;
      const kc = min(kStep, k - pc);
      const add = accumulate || pc > 0;
      packStrip(b, n, k, transB, pc, kc, js, w, ws);
      // B[p, js] is at base + p·SW·4 for the absolute p of an entry.
      const base = ws - <usize>pc * SW * 4;
      for (let i = i0; i < i1; i++) {
        const run = index + <usize>(i * (nb + 1) + blk) * 4;
        const e = entries + <usize>load<i32>(run) * 8;
        const end = entries + <usize>load<i32>(run, 4) * 8;
        const crow = c + (<usize>i * <usize>n + <usize>js) * 4;
        if (w == SW) {
          if (add) {
            row48(e, end, base, tile);
            addRow48(crow, tile);
          } else {
            row48(e, end, base, crow);
          }
        } else {
          for (let jr = 0; jr < w; jr += NR) row8(e, end, base + <usize>jr * 4, crow + <usize>jr * 4, min(NR, w - jr), add, tile);
        }
        if (pc + kc >= k) epilogue(c, n, i, i + 1, js, js + w, bias, act);
      }
    }
  }
}

/**
 * C[m×n] = op(A)·op(B) (+ C when accumulate), then act(C + bias), with op(A) given by sparsePack's index and
 * entries, as thread tid of nt. Like gemm, threads claim chunks through the i32 at `counter` (zero before
 * the call): single strips when there are enough strips, else row ranges. `work` starts nt
 * workspaces of sparseWorkspaceBytes.
 */
export function sparseGemm(
  index: usize, entries: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transB: bool, accumulate: bool,
  bias: usize, act: i32, work: usize, counter: usize, tid: i32, nt: i32,
): void {
  const ws = work + <usize>tid * <usize>sparseWorkspaceBytes();
  if (nt == 1) {
    sparseBlock(index, entries, b, c, m, n, k, transB, accumulate, bias, act, ws, 0, m, 0, n);
    return;
  }
  const strips = (n + SW - 1) / SW;
  const byCols = strips >= 2 * nt;
  // A strip per chunk (each strip's B is packed once whoever takes it), or row ranges that each pack all of B.
  const chunks = byCols ? strips : min(m, 4 * nt);
  for (;;) {
    const q = atomic.add<i32>(counter, 1);
    if (q >= chunks) break;
    if (byCols) {
      const j0 = (strips * q / chunks) * SW;
      const j1 = min(n, (strips * (q + 1) / chunks) * SW);
      sparseBlock(index, entries, b, c, m, n, k, transB, accumulate, bias, act, ws, 0, m, j0, j1);
    } else {
      sparseBlock(index, entries, b, c, m, n, k, transB, accumulate, bias, act, ws, m * q / chunks, m * (q + 1) / chunks, 0, n);
    }
  }
}
