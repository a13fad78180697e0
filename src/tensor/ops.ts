/** Elementwise ops with broadcasting, and reductions. */
import * as backend from "../backend/index.js";
import { Tensor, accumulate, result } from "./tensor.js";
import { broadcastShapes, expandTo, fmt, normAxis, plan, reduceTo, sameShape, sizeOf, type Shape } from "./shape.js";
import { alloc, gradAlloc, release } from "./pool.js";

/** A tensor or a plain number (a 0-d tensor). */
export type Operand = Tensor | number;

/** A number as a 0-d tensor; a tensor as itself. */
export function lift(x: Operand, op: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== "number") throw new TypeError(`${op}: expected a Tensor or a number, got ${String(x)}`);
  return new Tensor(new Float32Array([x]), []);
}

/** t's values broadcast to `shape`: its own data when the shape already agrees (read-only), else a copy. */
function dataAs(t: Tensor, shape: Shape): Float32Array {
  return sameShape(t.shape, shape) ? t.data : expandTo(t.data, t.shape, shape);
}

/** Adds g, summed down to t's shape, into t.grad; `fresh` says g is a temporary the caller gives away. */
function accumulateTo(t: Tensor, g: Float32Array, from: Shape, fresh = false): void {
  if (!t.requiresGrad) return;
  const r = reduceTo(g, from, t.shape);
  accumulate(t, r, fresh || r !== g);
  if (fresh && r !== g) release(g);
}

// A row kernel: o[oi + k] = f(a[ai + k·sa], b[bi + k·sb]) for k < n.
type Row = (a: Float32Array, ai: number, sa: number, b: Float32Array, bi: number, sb: number, o: Float32Array, oi: number, n: number) => void;

const addRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! + b[bi]!;
};
const subRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! - b[bi]!;
};
const mulRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! * b[bi]!;
};
const divRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! / b[bi]!;
};
const powRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = Math.pow(a[ai]!, b[bi]!);
};
const maxRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! >= b[bi]! ? a[ai]! : b[bi]!;
};
const minRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! <= b[bi]! ? a[ai]! : b[bi]!;
};

const eqRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai] === b[bi] ? 1 : 0;
};
const gtRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! > b[bi]! ? 1 : 0;
};
const geRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! >= b[bi]! ? 1 : 0;
};
const ltRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! < b[bi]! ? 1 : 0;
};
const leRow: Row = (a, ai, sa, b, bi, sb, o, oi, n) => {
  for (let k = 0; k < n; k++, ai += sa, bi += sb) o[oi + k] = a[ai]! <= b[bi]! ? 1 : 0;
};

/** f applied over the broadcast of a (shape as) and b (shape bs) to shape `out`. */
function broadcastRaw(a: Float32Array, as: Shape, b: Float32Array, bs: Shape, out: Shape, row: Row): Float32Array {
  const o = alloc(sizeOf(out));
  const p = plan(out, as, bs);
  for (let r = 0; r < p.rows; r++) row(a, p.aOff[r]!, p.sa, b, p.bOff[r]!, p.sb, o, r * p.len, p.len);
  return o;
}

function binary(x: Operand, y: Operand, op: string, row: Row, backward: (g: Float32Array, a: Tensor, b: Tensor, out: Float32Array, shape: Shape) => void): Tensor {
  const a = lift(x, op);
  const b = lift(y, op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const data = broadcastRaw(a.data, a.shape, b.data, b.shape, shape, row);
  return result(data, shape, op, [a, b], (g) => backward(g, a, b, data, shape));
}

/** a + b with broadcasting. */
export function add(a: Operand, b: Operand): Tensor {
  return binary(a, b, "add", addRow, (g, a, b, _, s) => {
    accumulateTo(a, g, s);
    accumulateTo(b, g, s);
  });
}

/** a − b with broadcasting. */
export function sub(a: Operand, b: Operand): Tensor {
  return binary(a, b, "sub", subRow, (g, a, b, _, s) => {
    accumulateTo(a, g, s);
    if (b.requiresGrad) accumulateTo(b, negRaw(g), s, true);
  });
}

/** a · b elementwise with broadcasting. */
export function mul(a: Operand, b: Operand): Tensor {
  return binary(a, b, "mul", mulRow, (g, a, b, _, s) => {
    if (a.requiresGrad) accumulateTo(a, broadcastRaw(g, s, b.data, b.shape, s, mulRow), s, true);
    if (b.requiresGrad) accumulateTo(b, broadcastRaw(g, s, a.data, a.shape, s, mulRow), s, true);
  });
}

/** a / b elementwise with broadcasting. */
export function div(a: Operand, b: Operand): Tensor {
  return binary(a, b, "div", divRow, (g, a, b, out, s) => {
    if (a.requiresGrad) accumulateTo(a, broadcastRaw(g, s, b.data, b.shape, s, divRow), s, true);
    if (b.requiresGrad) {
      const t = broadcastRaw(broadcastRaw(g, s, out, s, s, mulRow), s, b.data, b.shape, s, divRow);
      accumulateTo(b, negRaw(t), s, true);
    }
  });
}

function compare(x: Operand, y: Operand, op: string, row: Row): Tensor {
  const a = lift(x, op);
  const b = lift(y, op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  return new Tensor(broadcastRaw(a.data, a.shape, b.data, b.shape, shape, row), shape);
}

/** 1 where a = b, else 0 (broadcasting; no gradient). E.g. accuracy: `eq(argmax(logits, 1), labels).mean()`. */
export function eq(a: Operand, b: Operand): Tensor {
  return compare(a, b, "eq", eqRow);
}

/** 1 where a > b, else 0 (broadcasting; no gradient). */
export function gt(a: Operand, b: Operand): Tensor {
  return compare(a, b, "gt", gtRow);
}

/** 1 where a ≥ b, else 0 (broadcasting; no gradient). */
export function ge(a: Operand, b: Operand): Tensor {
  return compare(a, b, "ge", geRow);
}

/** 1 where a < b, else 0 (broadcasting; no gradient). */
export function lt(a: Operand, b: Operand): Tensor {
  return compare(a, b, "lt", ltRow);
}

/** 1 where a ≤ b, else 0 (broadcasting; no gradient). */
export function le(a: Operand, b: Operand): Tensor {
  return compare(a, b, "le", leRow);
}

/** Elementwise maximum; at ties each side gets half the gradient (as PyTorch). */
export function maximum(a: Operand, b: Operand): Tensor {
  return binary(a, b, "maximum", maxRow, (g, a, b, _, s) => pickGrad(g, a, b, s, 1));
}

/** Elementwise minimum; at ties each side gets half the gradient (as PyTorch). */
export function minimum(a: Operand, b: Operand): Tensor {
  return binary(a, b, "minimum", minRow, (g, a, b, _, s) => pickGrad(g, a, b, s, -1));
}

function pickGrad(g: Float32Array, a: Tensor, b: Tensor, s: Shape, sign: number): void {
  const ea = dataAs(a, s);
  const eb = dataAs(b, s);
  const ga = alloc(g.length);
  const gb = alloc(g.length);
  for (let i = 0; i < g.length; i++) {
    const d = (ea[i]! - eb[i]!) * sign;
    const w = d > 0 ? 1 : d < 0 ? 0 : 0.5;
    ga[i] = g[i]! * w;
    gb[i] = g[i]! * (1 - w);
  }
  accumulateTo(a, ga, s, true);
  accumulateTo(b, gb, s, true);
}

/**
 * a to the power b. A number exponent is the fast path; for a tensor exponent the gradient with respect to it
 * is g·a^b·ln a (0 where a = 0 and b ≥ 0).
 */
export function pow(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && a instanceof Tensor) {
    const e = b;
    return unary(a, "pow", (x, o) => {
      if (e === 2) for (let i = 0; i < x.length; i++) o[i] = x[i]! * x[i]!;
      else for (let i = 0; i < x.length; i++) o[i] = Math.pow(x[i]!, e);
    }, (g, x, _, ga) => {
      for (let i = 0; i < x.length; i++) ga[i] = g[i]! * e * Math.pow(x[i]!, e - 1);
    });
  }
  return binary(a, b, "pow", powRow, (g, a, b, out, s) => {
    const ea = dataAs(a, s);
    const eb = dataAs(b, s);
    if (a.requiresGrad) {
      const ga = alloc(g.length);
      for (let i = 0; i < g.length; i++) ga[i] = g[i]! * eb[i]! * Math.pow(ea[i]!, eb[i]! - 1);
      accumulateTo(a, ga, s, true);
    }
    if (b.requiresGrad) {
      const gb = alloc(g.length);
      for (let i = 0; i < g.length; i++) gb[i] = ea[i] === 0 && eb[i]! >= 0 ? 0 : g[i]! * out[i]! * Math.log(ea[i]!);
      accumulateTo(b, gb, s, true);
    }
  });
}

function negRaw(g: Float32Array): Float32Array {
  const o = alloc(g.length);
  for (let i = 0; i < g.length; i++) o[i] = -g[i]!;
  return o;
}

/**
 * A one-input op: `forward(x, out)` fills out; `backward(g, x, out, gx)` fills gx with the input gradient.
 * Both loop over whole arrays.
 */
function unary(
  t: Tensor,
  op: string,
  forward: (x: Float32Array, out: Float32Array) => void,
  backward: (g: Float32Array, x: Float32Array, out: Float32Array, gx: Float32Array) => void,
): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${op}: expected a Tensor, got ${String(t)}`);
  const out = alloc(t.size);
  forward(t.data, out);
  return result(out, t.shape, op, [t], (g) => {
    const gx = gradAlloc(g.length, false);
    backward(g, t.data, out, gx);
    accumulate(t, gx, true);
  });
}

/** A copy of x with its own storage; gradients flow through. */
export function clone(x: Tensor): Tensor {
  return result(x.data.slice(), x.shape, "clone", [x], (g) => accumulate(x, g, false));
}

/** −x. */
export function neg(x: Tensor): Tensor {
  return unary(x, "neg", (a, o) => { for (let i = 0; i < a.length; i++) o[i] = -a[i]!; },
    (g, _a, _o, gx) => { for (let i = 0; i < g.length; i++) gx[i] = -g[i]!; });
}

/** eˣ. */
export function exp(x: Tensor): Tensor {
  return unary(x, "exp", (a, o) => { for (let i = 0; i < a.length; i++) o[i] = Math.exp(a[i]!); },
    (g, _a, o, gx) => { for (let i = 0; i < g.length; i++) gx[i] = g[i]! * o[i]!; });
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unary(x, "log", (a, o) => { for (let i = 0; i < a.length; i++) o[i] = Math.log(a[i]!); },
    (g, a, _o, gx) => { for (let i = 0; i < g.length; i++) gx[i] = g[i]! / a[i]!; });
}

/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unary(x, "sqrt", (a, o) => { for (let i = 0; i < a.length; i++) o[i] = Math.sqrt(a[i]!); },
    (g, _a, o, gx) => { for (let i = 0; i < g.length; i++) gx[i] = (0.5 * g[i]!) / o[i]!; });
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unary(x, "tanh", (a, o) => { for (let i = 0; i < a.length; i++) o[i] = Math.tanh(a[i]!); },
    (g, _a, o, gx) => { for (let i = 0; i < g.length; i++) gx[i] = g[i]! * (1 - o[i]! * o[i]!); });
}

/** Logistic sigmoid 1 / (1 + e^−x). */
export function sigmoid(x: Tensor): Tensor {
  return unary(x, "sigmoid", (a, o) => { for (let i = 0; i < a.length; i++) o[i] = 1 / (1 + Math.exp(-a[i]!)); },
    (g, _a, o, gx) => { for (let i = 0; i < g.length; i++) gx[i] = g[i]! * o[i]! * (1 - o[i]!); });
}

/** max(x, 0); gradient 0 at 0. */
export function relu(x: Tensor): Tensor {
  return unary(x, "relu", (a, o) => backend.relu(a, o), (g, a, _o, gx) => backend.reluBackward(g, a, gx));
}

/** |x|; gradient sign(x), 0 at 0. */
export function abs(x: Tensor): Tensor {
  return unary(x, "abs", (a, o) => { for (let i = 0; i < a.length; i++) o[i] = Math.abs(a[i]!); },
    (g, a, _o, gx) => { for (let i = 0; i < g.length; i++) gx[i] = a[i]! > 0 ? g[i]! : a[i]! < 0 ? -g[i]! : 0; });
}

/** x limited to [min, max] (either bound may be omitted); the gradient passes where min ≤ x ≤ max. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  return unary(x, "clamp", (a, o) => { for (let i = 0; i < a.length; i++) o[i] = a[i]! < lo ? lo : a[i]! > hi ? hi : a[i]!; },
    (g, a, _o, gx) => { for (let i = 0; i < g.length; i++) gx[i] = a[i]! >= lo && a[i]! <= hi ? g[i]! : 0; });
}

/** a where cond is nonzero, else b; all three broadcast together. cond gets no gradient. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const ta = lift(a, "where");
  const tb = lift(b, "where");
  const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape, "where"), tb.shape, "where");
  const c = dataAs(cond, shape);
  const ea = dataAs(ta, shape);
  const eb = dataAs(tb, shape);
  const out = alloc(c.length);
  for (let i = 0; i < c.length; i++) out[i] = c[i] !== 0 ? ea[i]! : eb[i]!;
  return result(out, shape, "where", [ta, tb], (g) => {
    const ga = alloc(g.length);
    const gb = alloc(g.length);
    for (let i = 0; i < g.length; i++) {
      if (c[i] !== 0) ga[i] = g[i]!;
      else gb[i] = g[i]!;
    }
    accumulateTo(ta, ga, shape, true);
    accumulateTo(tb, gb, shape, true);
  });
}

// ---- reductions ----

/** Sorted distinct non-negative axes; all axes when `axis` is undefined. */
export function axesOf(axis: number | readonly number[] | undefined, ndim: number, op: string): number[] {
  if (axis === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  const axes = [...new Set(list.map((a) => normAxis(a, ndim, op)))].sort((p, q) => p - q);
  if (axes.length !== list.length) throw new RangeError(`${op}: repeated axis in [${list.join(",")}]`);
  return axes;
}

function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function outShape(shape: Shape, axes: number[], keepDim: boolean): number[] {
  return keepDim ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

function scaledSum(x: Tensor, axis: number | readonly number[] | undefined, keepDim: boolean, mean: boolean, op: string): Tensor {
  const axes = axesOf(axis, x.ndim, op);
  const kept = keptShape(x.shape, axes);
  const r = reduceTo(x.data, x.shape, kept);
  const data = r === x.data ? r.slice() : r;
  const count = x.size / Math.max(sizeOf(kept), 1);
  const scale = mean ? 1 / count : 1;
  if (mean) for (let i = 0; i < data.length; i++) data[i] *= scale;
  return result(data, outShape(x.shape, axes, keepDim), op, [x], (g) => {
    const gx = expandTo(g, kept, x.shape);
    if (mean) for (let i = 0; i < gx.length; i++) gx[i] *= scale;
    accumulate(x, gx, true);
  });
}

/** Sum over `axis` (a number, a list, or all axes when omitted). */
export function sum(x: Tensor, axis?: number | readonly number[], keepDim = false): Tensor {
  return scaledSum(x, axis, keepDim, false, "sum");
}

/** Mean over `axis` (a number, a list, or all axes when omitted). */
export function mean(x: Tensor, axis?: number | readonly number[], keepDim = false): Tensor {
  return scaledSum(x, axis, keepDim, true, "mean");
}

/** [outer, n, inner] for reducing one axis of a contiguous shape. */
export function split3(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

/** Values and first index of the extreme (sign 1: max, −1: min) along one axis. */
function extremeAlong(x: Tensor, axis: number, sign: number): { values: Float32Array; index: Int32Array } {
  const [outer, n, inner] = split3(x.shape, axis);
  if (n === 0) throw new RangeError(`reduction over an empty axis of shape ${fmt(x.shape)}`);
  const values = alloc(outer * inner);
  const index = new Int32Array(outer * inner);
  const d = x.data;
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    const vo = o * inner;
    for (let i = 0; i < inner; i++) values[vo + i] = d[base + i]!;
    for (let r = 1; r < n; r++) {
      const row = base + r * inner;
      for (let i = 0; i < inner; i++) {
        const v = d[row + i]!;
        if ((v - values[vo + i]!) * sign > 0) {
          values[vo + i] = v;
          index[vo + i] = r;
        }
      }
    }
  }
  return { values, index };
}

function extreme(x: Tensor, axis: number | readonly number[] | undefined, keepDim: boolean, sign: number, op: string): Tensor {
  const axes = axesOf(axis, x.ndim, op);
  let t = x;
  for (const ax of axes) {
    const { values, index } = extremeAlong(t, ax, sign);
    const src = t;
    const shape = keptShape(src.shape, [ax]);
    t = result(values, shape, op, [src], (g) => {
      const [outer, n, inner] = split3(src.shape, ax);
      const gx = alloc(src.size);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) gx[(o * n + index[o * inner + i]!) * inner + i] = g[o * inner + i]!;
      }
      accumulate(src, gx, true);
    });
  }
  const shape = outShape(x.shape, axes, keepDim);
  return sameShape(shape, t.shape) ? t : t.reshape(shape);
}

/** Maximum over `axis` (all when omitted); the gradient goes to the first maximal element. */
export function max(x: Tensor, axis?: number | readonly number[], keepDim = false): Tensor {
  return extreme(x, axis, keepDim, 1, "max");
}

/** Minimum over `axis` (all when omitted); the gradient goes to the first minimal element. */
export function min(x: Tensor, axis?: number | readonly number[], keepDim = false): Tensor {
  return extreme(x, axis, keepDim, -1, "min");
}

/** Index of the first maximum along `axis` (of the flattened tensor when omitted), as float values; no gradient. */
export function argmax(x: Tensor, axis?: number, keepDim = false): Tensor {
  if (axis === undefined) {
    const { index } = extremeAlong(new Tensor(x.data, [x.size]), 0, 1);
    return new Tensor(Float32Array.from(index), keepDim ? x.shape.map(() => 1) : []);
  }
  const ax = normAxis(axis, x.ndim, "argmax");
  const { index } = extremeAlong(x, ax, 1);
  return new Tensor(Float32Array.from(index), outShape(x.shape, [ax], keepDim));
}

/** log Σ exp(x) over `axis`, computed as m + log Σ exp(x − m) with m the (constant) maximum. */
export function logsumexp(x: Tensor, axis?: number | readonly number[], keepDim = false): Tensor {
  const axes = axesOf(axis, x.ndim, "logsumexp");
  const top = max(x.detach(), axes, true);
  const m = new Tensor(top.data.map((v) => (Number.isFinite(v) ? v : 0)), top.shape);
  const s = add(log(sum(exp(sub(x, m)), axes, true)), m);
  return keepDim ? s : s.reshape(outShape(x.shape, axes, false));
}

/** Variance over `axis` with Bessel's `correction` (1: unbiased, as PyTorch's default; 0: population). */
export function variance(x: Tensor, axis?: number | readonly number[], keepDim = false, correction = 1): Tensor {
  const axes = axesOf(axis, x.ndim, "var");
  const n = axes.reduce((c, a) => c * x.shape[a]!, 1);
  const d = sub(x, mean(x, axes, true));
  return div(sum(mul(d, d), axes, keepDim), Math.max(n - correction, 0));
}
