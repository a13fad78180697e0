/** Shapes, broadcasting and the row plans that let kernels run over broadcast operands without per-element index arithmetic. */

export type Shape = readonly number[];
import { alloc } from "./pool.js";

/** `[2,3]`. */
export function fmt(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

/** Number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throws unless every dimension is a non-negative integer. */
export function checkShape(shape: Shape, op: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`${op}: invalid shape ${Array.isArray(shape) ? fmt(shape) : String(shape)}`);
  }
}

/** An axis in [-ndim, ndim) as a non-negative index. */
export function normAxis(axis: number, ndim: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= Math.max(ndim, 1)) {
    throw new RangeError(`${op}: axis ${axis} out of range for ${ndim} dimensions`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** NumPy broadcasting of two shapes; the error names the op and both shapes. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * The output of a broadcast walked as `rows` rows of `len` contiguous output elements; inside row r operand a
 * starts at aOff[r] and steps by sa (0 or 1), operand b likewise. Adjacent dimensions that are contiguous for
 * both operands are merged, so same-shape operands give one row and a bias gives one row per sample.
 */
export interface Plan {
  rows: number;
  len: number;
  sa: number;
  sb: number;
  aOff: Int32Array;
  bOff: Int32Array;
}

function stridesIn(shape: Shape, out: Shape): number[] {
  const st = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = out.length - shape.length + i;
    st[o] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return st;
}

export function plan(out: Shape, a: Shape, b: Shape): Plan {
  const sa = stridesIn(a, out);
  const sb = stridesIn(b, out);
  const dims: number[][] = []; // [size, strideA, strideB], innermost first
  for (let i = out.length - 1; i >= 0; i--) {
    const d = out[i]!;
    if (d === 1) continue;
    const last = dims[dims.length - 1];
    if (last && sa[i] === last[1]! * last[0]! && sb[i] === last[2]! * last[0]!) last[0]! *= d;
    else dims.push([d, sa[i]!, sb[i]!]);
  }
  const total = sizeOf(out);
  const [len, stepA, stepB] = dims[0] ?? [1, 0, 0];
  const rows = total === 0 ? 0 : total / len!;
  const aOff = new Int32Array(rows);
  const bOff = new Int32Array(rows);
  const outer = dims.slice(1);
  const idx = new Array<number>(outer.length).fill(0);
  let ai = 0;
  let bi = 0;
  for (let r = 0; r < rows; r++) {
    aOff[r] = ai;
    bOff[r] = bi;
    for (let k = 0; k < outer.length; k++) {
      const [size, da, db] = outer[k]!;
      ai += da!;
      bi += db!;
      if (++idx[k]! < size!) break;
      idx[k] = 0;
      ai -= da! * size!;
      bi -= db! * size!;
    }
  }
  return { rows, len: len!, sa: stepA!, sb: stepB!, aOff, bOff };
}

/** Sums g (of shape `from`) over the dimensions broadcast from `to`; returns g itself when the shapes agree. */
export function reduceTo(g: Float32Array, from: Shape, to: Shape): Float32Array {
  if (sameShape(from, to)) return g;
  const p = plan(from, to, from);
  const t = alloc(sizeOf(to));
  const { len, sa, aOff } = p;
  for (let r = 0; r < p.rows; r++) {
    const ti = aOff[r]!;
    const gi = r * len;
    if (sa === 1) for (let k = 0; k < len; k++) t[ti + k] += g[gi + k]!;
    else {
      let s = 0;
      for (let k = 0; k < len; k++) s += g[gi + k]!;
      t[ti] += s;
    }
  }
  return t;
}

/** Copies x (of shape `from`) broadcast to shape `to`. */
export function expandTo(x: Float32Array, from: Shape, to: Shape): Float32Array {
  const p = plan(to, from, to);
  const out = alloc(sizeOf(to));
  const { len, sa, aOff } = p;
  for (let r = 0; r < p.rows; r++) {
    const o = r * len;
    if (sa === 1) out.set(x.subarray(aOff[r]!, aOff[r]! + len), o);
    else out.fill(x[aOff[r]!]!, o, o + len);
  }
  return out;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Contiguous row-major strides. */
export function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}
