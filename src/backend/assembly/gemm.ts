// Packed-panel, register-blocked matrix product over the shared memory (BLIS-style loop nest).
// Every pointer is a byte address chosen by the JavaScript side. Each output element is the sum over k in
// ascending order, restarted per KC block and added to C block by block; that order does not depend on
// which thread owns the tile or on how the output is split, so results are identical for any thread count.

import { madd, store4x4T } from "./simd";

// MR = 4 because V8 schedules all loads of a step before its multiply-adds: 8 accumulators + 2 B + 4 A
// vectors fit the 15 xmm registers it allocates; MR = 6 (12 accumulators) spills and runs at half speed,
// and ordering the loads by never-taken branches (MR = 5 or 6) gained nothing. Also measured at 1024³ on
// one thread (CPU time, interleaved in one process), none worth its code: a 3 × 12 tile (9 accumulators,
// exactly the 15 registers, its 12 columns read from 1.5 B panels) +1 % (-2 % at 100×800×784); the p loop
// unrolled (V8 hoists all the loads: spills, half speed); the A splats as shuffles of one load (-20 %: they
// take FMA pipes); pointers stepped before the loads (2 instructions less per step) ±0; MC 128 to 256 ±0;
// the kernel on K slices of 256 steps (a B micro-panel then stays in L1) ±0. The product runs at the
// kernel's speed (packing is about 1 %), and the kernel at about 90 % of a loop of 12 independent
// multiply-adds.
// @ts-ignore: decorator
@inline export const MR = 4;
// @ts-ignore: decorator
@inline export const NR = 8;
// @ts-ignore: decorator
@inline export const KC = 1024;
// @ts-ignore: decorator
@inline export const MC = 64;
// @ts-ignore: decorator
@inline export const NC = 1024;

/** Bytes of private workspace one thread needs: a packed A block, a packed B block and an edge tile. */
export function gemmWorkspaceBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/**
 * Packs op(A)[ic..ic+mc, pc..pc+kc] into micro-panels of MR rows: panel q holds, for each p, the MR values
 * op(A)[ic + q·MR + r, pc + p] contiguously; rows past mc are zero.
 */
function packA(a: usize, m: i32, k: i32, transA: bool, ic: i32, mc: i32, pc: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const panel = dst + <usize>(ir * kc) * 4;
    if (transA) {
      // A stored k×m: the MR values for one p are contiguous.
      for (let p = 0; p < kc; p++) {
        const src = a + (<usize>(pc + p) * <usize>m + <usize>(ic + ir)) * 4;
        const d = panel + <usize>(p * MR) * 4;
        if (rows == MR) {
          v128.store(d, v128.load(src));
        } else {
          for (let r = 0; r < MR; r++) store<f32>(d + <usize>r * 4, r < rows ? load<f32>(src + <usize>r * 4) : 0);
        }
      }
    } else if (rows == MR) {
      // A stored m×k, a full panel: 4×4 blocks of its rows transposed, then the last kc mod 4 steps.
      const rowStride = <usize>k * 4;
      const src = a + (<usize>(ic + ir) * <usize>k + <usize>pc) * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = src + <usize>p * 4;
        store4x4T(panel + <usize>(p * MR) * 4, MR * 4, v128.load(s), v128.load(s + rowStride), v128.load(s + 2 * rowStride), v128.load(s + 3 * rowStride));
      }
      for (; p < kc; p++) {
        for (let r = 0; r < MR; r++) store<f32>(panel + <usize>(p * MR + r) * 4, load<f32>(src + <usize>r * rowStride + <usize>p * 4));
      }
    } else {
      // A stored m×k, the last rows: row r of the panel is contiguous in p.
      for (let r = 0; r < MR; r++) {
        const d = panel + <usize>r * 4;
        if (r < rows) {
          const src = a + (<usize>(ic + ir + r) * <usize>k + <usize>pc) * 4;
          for (let p = 0; p < kc; p++) store<f32>(d + <usize>(p * MR) * 4, load<f32>(src + <usize>p * 4));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(d + <usize>(p * MR) * 4, 0);
        }
      }
    }
  }
}

/**
 * Packs op(B)[pc..pc+kc, jc..jc+nc] into micro-panels of NR columns: panel q holds, for each p, the NR
 * values op(B)[pc + p, jc + q·NR + c] contiguously; columns past nc are zero.
 */
export function packB(b: usize, n: i32, k: i32, transB: bool, pc: i32, kc: i32, jc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const panel = dst + <usize>(jr * kc) * 4;
    if (!transB) {
      // B stored k×n: the NR values for one p are contiguous.
      for (let p = 0; p < kc; p++) {
        const src = b + (<usize>(pc + p) * <usize>n + <usize>(jc + jr)) * 4;
        const d = panel + <usize>(p * NR) * 4;
        if (cols == NR) {
          v128.store(d, v128.load(src));
          v128.store(d + 16, v128.load(src + 16));
        } else {
          for (let c = 0; c < NR; c++) store<f32>(d + <usize>c * 4, c < cols ? load<f32>(src + <usize>c * 4) : 0);
        }
      }
    } else {
      // B stored n×k: column c of the panel is contiguous in p; transpose 4×4 blocks.
      const rowStride = <usize>k * 4;
      const src0 = b + (<usize>(jc + jr) * <usize>k + <usize>pc) * 4;
      let p = 0;
      if (cols == NR) {
        for (; p + 4 <= kc; p += 4) {
          const s = src0 + <usize>p * 4;
          const d = panel + <usize>(p * NR) * 4;
          store4x4T(d, NR * 4, v128.load(s), v128.load(s + rowStride), v128.load(s + 2 * rowStride), v128.load(s + 3 * rowStride));
          const s4 = s + 4 * rowStride;
          store4x4T(d + 16, NR * 4, v128.load(s4), v128.load(s4 + rowStride), v128.load(s4 + 2 * rowStride), v128.load(s4 + 3 * rowStride));
        }
      }
      for (; p < kc; p++) {
        const d = panel + <usize>(p * NR) * 4;
        for (let c = 0; c < NR; c++) {
          store<f32>(d + <usize>c * 4, c < cols ? load<f32>(src0 + <usize>c * rowStride + <usize>p * 4) : 0);
        }
      }
    }
  }
}

/**
 * C[MR×NR] (row stride ldc floats) = (add ? C : 0) + Apanel·Bpanel over kc steps. With rows/cols below
 * MR/NR the full tile is computed into `tile` and only the valid part is written.
 */
function kernel(ap: usize, bp: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, add: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
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
    ap += MR * 4;
    bp += NR * 4;
  }
  const full = rows == MR && cols == NR;
  const dst = full ? c : tile;
  const ld: usize = full ? <usize>ldc * 4 : NR * 4;
  if (!full && add) {
    // Bring the valid part of C into the tile so the sums below see it; the rest stays unused.
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        store<f32>(tile + <usize>(r * NR + j) * 4, load<f32>(c + (<usize>r * <usize>ldc + <usize>j) * 4));
      }
    }
  }
  if (add) {
    c00 = f32x4.add(v128.load(dst), c00);
    c01 = f32x4.add(v128.load(dst, 16), c01);
    c10 = f32x4.add(v128.load(dst + ld), c10);
    c11 = f32x4.add(v128.load(dst + ld, 16), c11);
    c20 = f32x4.add(v128.load(dst + 2 * ld), c20);
    c21 = f32x4.add(v128.load(dst + 2 * ld, 16), c21);
    c30 = f32x4.add(v128.load(dst + 3 * ld), c30);
    c31 = f32x4.add(v128.load(dst + 3 * ld, 16), c31);
  }
  v128.store(dst, c00);
  v128.store(dst, c01, 16);
  v128.store(dst + ld, c10);
  v128.store(dst + ld, c11, 16);
  v128.store(dst + 2 * ld, c20);
  v128.store(dst + 2 * ld, c21, 16);
  v128.store(dst + 3 * ld, c30);
  v128.store(dst + 3 * ld, c31, 16);
  if (!full) {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        store<f32>(c + (<usize>r * <usize>ldc + <usize>j) * 4, load<f32>(tile + <usize>(r * NR + j) * 4));
      }
    }
  }
}

/** Activation codes shared with the JavaScript side. */
// @ts-ignore: decorator
@inline const ACT_RELU = 1;
// @ts-ignore: decorator
@inline const ACT_TANH = 2;
// @ts-ignore: decorator
@inline const ACT_SIGMOID = 3;

/** C[rows i0..i1, cols j0..j1] = act(C + bias[j]); bias 0 means none. */
export function epilogue(c: usize, n: i32, i0: i32, i1: i32, j0: i32, j1: i32, bias: usize, act: i32): void {
  if (bias == 0 && act == 0) return;
  const zero = f32x4.splat(0);
  for (let i = i0; i < i1; i++) {
    const row = c + <usize>i * <usize>n * 4;
    let j = j0;
    if (act <= ACT_RELU) {
      for (; j + 4 <= j1; j += 4) {
        const at = row + <usize>j * 4;
        let v = v128.load(at);
        if (bias != 0) v = f32x4.add(v, v128.load(bias + <usize>j * 4));
        if (act == ACT_RELU) v = v128.bitselect(v, zero, f32x4.gt(v, zero));
        v128.store(at, v);
      }
    }
    for (; j < j1; j++) {
      const at = row + <usize>j * 4;
      let v = <f64>load<f32>(at);
      if (bias != 0) v += <f64>load<f32>(bias + <usize>j * 4);
      if (act == ACT_RELU) v = v > 0 ? v : 0;
      else if (act == ACT_TANH) v = Math.tanh(v);
      else if (act == ACT_SIGMOID) v = 1 / (1 + Math.exp(-v));
      store<f32>(at, <f32>v);
    }
  }
}

/** The K block length: k cut into equal blocks of at most KC (a short last block would cost packing and C
 * traffic for little work). It depends on k only, never on the thread count. */
export function kBlock(k: i32): i32 {
  const blocks = (k + KC - 1) / KC;
  return (k + blocks - 1) / blocks;
}

/** Bytes gemmPackA writes for an op(A) of m×k. */
export function gemmPackedABytes(m: i32, k: i32): i32 {
  return ((m + MR - 1) / MR) * MR * k * 4;
}

/**
 * Packs all of op(A) the way gemm reads it, so threads sharing one product pack it once: K block by K
 * block (block p at p·kBlock·mPad floats), each as packA's micro-panels from row 0. As thread tid of nt,
 * packs its share of the micro-panels of every block.
 */
export function gemmPackA(a: usize, m: i32, k: i32, transA: bool, dst: usize, tid: i32, nt: i32): void {
  const kStep = kBlock(k);
  const panels = (m + MR - 1) / MR;
  const i0 = panels * tid / nt * MR;
  const i1 = min(m, panels * (tid + 1) / nt * MR);
  if (i0 >= i1) return;
  for (let pc = 0; pc < k; pc += kStep) {
    const kc = min(kStep, k - pc);
    packA(a, m, k, transA, i0, i1 - i0, pc, kc, dst + (<usize>pc * <usize>(panels * MR) + <usize>i0 * <usize>kc) * 4);
  }
}

/**
 * C[i0..i1, j0..j1] of op(A)·op(B) (+ C), then act(C + bias). A comes from `packedA` (gemmPackA's output)
 * or, when that is 0, is packed block by block into the workspace.
 */
function gemmBlock(
  a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: bool, transB: bool, accumulate: bool,
  bias: usize, act: i32, ws: usize, packedA: usize, i0: i32, i1: i32, j0: i32, j1: i32,
): void {
  const bp = ws + MC * KC * 4;
  const tile = bp + KC * NC * 4;
  const kStep = kBlock(k);
  const mPad = ((m + MR - 1) / MR) * MR;
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < k; pc += kStep) {
      const kc = min(kStep, k - pc);
      packB(b, n, k, transB, pc, kc, jc, nc, bp);
      const add = accumulate || pc > 0;
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        let ap = ws;
        if (packedA != 0) ap = packedA + (<usize>pc * <usize>mPad + <usize>ic * <usize>kc) * 4;
        else packA(a, m, k, transA, ic, mc, pc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const bpanel = bp + <usize>(jr * kc) * 4;
          const cols = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const cTile = c + (<usize>(ic + ir) * <usize>n + <usize>(jc + jr)) * 4;
            kernel(ap + <usize>(ir * kc) * 4, bpanel, kc, cTile, n, min(MR, mc - ir), cols, add, tile);
          }
        }
        if (pc + kc >= k) epilogue(c, n, ic, ic + mc, jc, jc + nc, bias, act);
      }
    }
  }
}

/** C[m×n] = op(A)·op(B) (+ C when accumulate) on the calling thread alone, with workspace ws. */
export function gemmSerial(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: bool, transB: bool, accumulate: bool, ws: usize): void {
  gemmBlock(a, b, c, m, n, k, transA, transB, accumulate, 0, 0, ws, 0, 0, m, 0, n);
}

/**
 * C[m×n] = op(A)·op(B) (+ C when accumulate), then act(C + bias), as thread tid of nt. With one thread it
 * does everything. With more, the output is cut into chunks of whole tiles (column ranges when there are
 * enough column panels, else MC-row ranges) that threads claim through the i32 at `counter` (zero before
 * the call), so a thread the OS delays leaves its chunks to the others; `packedA` is gemmPackA's output.
 * Which thread computes a tile never changes how it is computed. `work` starts nt workspaces.
 */
export function gemm(
  a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: bool, transB: bool, accumulate: bool,
  bias: usize, act: i32, work: usize, packedA: usize, counter: usize, tid: i32, nt: i32,
): void {
  const ws = work + <usize>tid * <usize>gemmWorkspaceBytes();
  if (nt == 1) {
    gemmBlock(a, b, c, m, n, k, transA, transB, accumulate, bias, act, ws, packedA, 0, m, 0, n);
    return;
  }
  const colTiles = (n + NR - 1) / NR;
  const byCols = colTiles >= 2 * nt;
  const chunks = byCols ? min(colTiles, 4 * nt) : (m + MC - 1) / MC;
  for (;;) {
    const q = atomic.add<i32>(counter, 1);
    if (q >= chunks) break;
    if (byCols) {
      const j0 = (colTiles * q / chunks) * NR;
      const j1 = min(n, (colTiles * (q + 1) / chunks) * NR);
      gemmBlock(a, b, c, m, n, k, transA, transB, accumulate, bias, act, ws, packedA, 0, m, j0, j1);
    } else {
      gemmBlock(a, b, c, m, n, k, transA, transB, accumulate, bias, act, ws, packedA, q * MC, min(m, (q + 1) * MC), 0, n);
    }
  }
}
