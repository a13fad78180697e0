/**
 * The Tensor class and reverse-mode autograd. Every op that records a graph node stores its parents and one
 * backward closure, which receives the gradient of the op's output and adds into its parents' `grad`.
 *
 * Writing an op (inside the library):
 *   const out = alloc(x.size);                      // storage from ./pool.js
 *   ...fill out from x.data...
 *   return result(out, x.shape, "myOp", [x], (g) => {
 *     const gx = alloc(g.length);                   // d(loss)/dx from g = d(loss)/d(out)
 *     ...fill gx...
 *     accumulate(x, gx, true);                      // gx given away; or add into gradBuffer(x) directly
 *   });
 * The closure must not keep or modify g. `result` records nothing under noGrad or when no parent requires grad.
 */
import * as backend from "../backend/index.js";
import type { Activation } from "../backend/index.js";
import { checkShape, fmt, sizeOf, type Shape } from "./shape.js";
import * as ops from "./ops.js";
import * as sh from "./shapeops.js";
import * as ly from "./layers.js";
import { alloc, gradAlloc, release, track } from "./pool.js";

/** A nested JavaScript array of numbers, as returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

/** Indices: a Tensor of integral values or any array of integers. */
export type IndexLike = Tensor | ArrayLike<number>;

let gradEnabled = true;

/** Runs `fn` without recording a graph (PyTorch's `torch.no_grad()`); `fn` must be synchronous. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether ops currently record a graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** A float32 tensor: contiguous row-major `data` of `shape`. */
export class Tensor {
  /** Dimensions, outermost first. */
  readonly shape: Shape;
  readonly #data: Float32Array;
  #disposed = false;
  /** Whether gradients flow to this tensor; set it on leaves (parameters) before building the graph. */
  requiresGrad: boolean;
  #grad: Tensor | null = null;
  #gradZeroed = false;
  /** The name of the op that produced this tensor ("" for a leaf). */
  op = "";
  /** @internal Graph inputs. */
  _parents: readonly Tensor[] = [];
  /** @internal Adds the gradients of the parents, given the gradient of this tensor. */
  _backward: ((g: Float32Array) => void) | null = null;

  /** Wraps `data` (not copied) as a tensor of `shape`. Use `tensor()` to build from arrays. */
  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    checkShape(shape, "Tensor");
    if (data.length !== sizeOf(shape)) {
      throw new RangeError(`Tensor: ${data.length} values do not fill shape ${fmt(shape)}`);
    }
    this.shape = Object.freeze([...shape]);
    this.#data = data;
    this.requiresGrad = requiresGrad;
    track(this);
  }

  /**
   * Row-major contiguous storage; ops never modify it, so an optimizer may update parameters in place.
   * Reading it throws once the tensor is disposed (made inside `tidy` and not returned from it).
   */
  get data(): Float32Array {
    if (this.#disposed) throw new Error("tensor was disposed: it was made inside tidy() and not returned from it");
    return this.#data;
  }
  /** The accumulated gradient of a leaf after `backward()`; null until then. Set it to null to zero it. */
  get grad(): Tensor | null {
    if (this.#gradZeroed) {
      this.#gradZeroed = false;
      backend.zero(this.#grad!.data);
    }
    return this.#grad;
  }
  set grad(g: Tensor | null) {
    this.#grad = g;
    this.#gradZeroed = false;
  }
  /**
   * @internal Zeroes the gradient in place (optimizers' `zeroGrad`), lazily: it is cleared when next read,
   * unless a kernel that writes all of it (`gradTarget`) comes first and skips the clearing.
   */
  _zeroGrad(): void {
    if (this.#grad !== null) this.#gradZeroed = true;
  }
  /** @internal The gradient's storage when `_zeroGrad` left it to be overwritten (taking that mark), else null. */
  _takeZeroedGrad(): Float32Array | null {
    if (!this.#gradZeroed) return null;
    this.#gradZeroed = false;
    return this.#grad!.data;
  }
  /** @internal The storage, also once disposed (for `tidy`). */
  get _storage(): Float32Array {
    return this.#data;
  }
  /** @internal Marks the tensor disposed: `tidy` gave its storage back. */
  _dispose(): void {
    this.#disposed = true;
  }

  /** Number of elements. */
  get size(): number {
    return this.#data.length;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The values as nested arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const build = (d: number, off: number): NestedArray => {
      if (d === this.shape.length) return this.data[off]!;
      const n = this.shape[d]!;
      const stride = sizeOf(this.shape.slice(d + 1));
      return Array.from({ length: n }, (_, i) => build(d + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`);
    return this.data[0]!;
  }

  /** A tensor sharing this one's data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /**
   * Backpropagates from this tensor: adds d(this)/d(leaf) · grad into every leaf's `grad` (so calls
   * accumulate). `grad` defaults to 1 for a one-element tensor.
   */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) throw new Error("backward: tensor does not require grad");
    let seed: Float32Array;
    if (grad === undefined) {
      if (this.size !== 1) {
        throw new Error(`backward: a gradient is needed for a non-scalar output of shape ${fmt(this.shape)}`);
      }
      seed = new Float32Array([1]);
    } else {
      if (grad.size !== this.size) {
        throw new Error(`backward: gradient of shape ${fmt(grad.shape)} does not match output ${fmt(this.shape)}`);
      }
      seed = grad.data.slice();
    }
    const order = topoOrder(this);
    for (const t of order) if (t._backward) t.grad = null;
    accumulate(this, seed, true);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      if (!t._backward || !t.grad) continue;
      const g = t.grad.data;
      t.grad = null;
      t._backward(g);
      release(g); // an intermediate's gradient is the engine's own and dead now
    }
  }

  /** PyTorch-style text: `tensor([[1.0000, 2.0000]], requiresGrad=true)`. */
  toString(): string {
    return format(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return format(this);
  }
  /** Mime bundle for Jupyter displays. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/plain": format(this) };
  }

  // Ops as methods; each calls the function of the same name.

  /** this + o, broadcasting. */
  add(o: Tensor | number): Tensor { return ops.add(this, o); }
  /** this − o, broadcasting. */
  sub(o: Tensor | number): Tensor { return ops.sub(this, o); }
  /** this · o elementwise, broadcasting. */
  mul(o: Tensor | number): Tensor { return ops.mul(this, o); }
  /** this / o elementwise, broadcasting. */
  div(o: Tensor | number): Tensor { return ops.div(this, o); }
  /** this to the power o (a number or a broadcast tensor). */
  pow(o: Tensor | number): Tensor { return ops.pow(this, o); }
  /** Elementwise maximum with o. */
  maximum(o: Tensor | number): Tensor { return ops.maximum(this, o); }
  /** Elementwise minimum with o. */
  minimum(o: Tensor | number): Tensor { return ops.minimum(this, o); }
  /** 1 where this = o, else 0 (no gradient). */
  eq(o: Tensor | number): Tensor { return ops.eq(this, o); }
  /** 1 where this > o, else 0 (no gradient). */
  gt(o: Tensor | number): Tensor { return ops.gt(this, o); }
  /** 1 where this ≥ o, else 0 (no gradient). */
  ge(o: Tensor | number): Tensor { return ops.ge(this, o); }
  /** 1 where this < o, else 0 (no gradient). */
  lt(o: Tensor | number): Tensor { return ops.lt(this, o); }
  /** 1 where this ≤ o, else 0 (no gradient). */
  le(o: Tensor | number): Tensor { return ops.le(this, o); }
  /** A copy with its own storage; gradients flow through. */
  clone(): Tensor { return ops.clone(this); }
  /** −this. */
  neg(): Tensor { return ops.neg(this); }
  /** e^this. */
  exp(): Tensor { return ops.exp(this); }
  /** Natural logarithm. */
  log(): Tensor { return ops.log(this); }
  /** Square root. */
  sqrt(): Tensor { return ops.sqrt(this); }
  /** Hyperbolic tangent. */
  tanh(): Tensor { return ops.tanh(this); }
  /** Logistic sigmoid. */
  sigmoid(): Tensor { return ops.sigmoid(this); }
  /** max(this, 0). */
  relu(): Tensor { return ops.relu(this); }
  /** |this|. */
  abs(): Tensor { return ops.abs(this); }
  /** Limits values to [min, max]; either bound may be null. */
  clamp(min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }
  /** Sum over `axis` (one, several, or all when omitted). */
  sum(axis?: number | readonly number[], keepDim = false): Tensor { return ops.sum(this, axis, keepDim); }
  /** Mean over `axis` (one, several, or all when omitted). */
  mean(axis?: number | readonly number[], keepDim = false): Tensor { return ops.mean(this, axis, keepDim); }
  /** Maximum values over `axis` (all when omitted); indices via `argmax`. */
  max(axis?: number | readonly number[], keepDim = false): Tensor { return ops.max(this, axis, keepDim); }
  /** Minimum values over `axis` (all when omitted). */
  min(axis?: number | readonly number[], keepDim = false): Tensor { return ops.min(this, axis, keepDim); }
  /** Index of the first maximum along `axis` (of the flattened tensor when omitted). */
  argmax(axis?: number, keepDim = false): Tensor { return ops.argmax(this, axis, keepDim); }
  /** Stable log Σ exp over `axis`. */
  logsumexp(axis?: number | readonly number[], keepDim = false): Tensor { return ops.logsumexp(this, axis, keepDim); }
  /** Variance over `axis`; `correction` 1 (default) is unbiased, 0 the population variance. */
  var(axis?: number | readonly number[], keepDim = false, correction = 1): Tensor {
    return ops.variance(this, axis, keepDim, correction);
  }
  /** The same data in a new shape (one dimension may be −1); shares storage. */
  reshape(shape: Shape): Tensor { return sh.reshape(this, shape); }
  /** Same as `reshape`. */
  view(shape: Shape): Tensor { return sh.reshape(this, shape); }
  /** Merges dimensions startDim..endDim (default: all) into one. */
  flatten(startDim = 0, endDim = -1): Tensor { return sh.flatten(this, startDim, endDim); }
  /** Removes dimension `axis` of size 1, or all size-1 dimensions. */
  squeeze(axis?: number): Tensor { return sh.squeeze(this, axis); }
  /** Inserts a dimension of size 1 at `axis`. */
  unsqueeze(axis: number): Tensor { return sh.unsqueeze(this, axis); }
  /** Broadcasts to `shape` (a copy). */
  expand(shape: Shape): Tensor { return sh.expand(this, shape); }
  /** Swaps two dimensions (default: the last two). */
  transpose(d0 = -2, d1 = -1): Tensor { return sh.transpose(this, d0, d1); }
  /** Reorders dimensions: output dimension i is input dimension dims[i]. */
  permute(dims: readonly number[]): Tensor { return sh.permute(this, dims); }
  /** Per-axis `[start, end, step]` slicing with Python semantics; null keeps an axis whole. */
  slice(ranges: readonly sh.SliceRange[]): Tensor { return sh.slice(this, ranges); }
  /** Splits into `chunks` pieces along `axis` (each ceil(n / chunks) long, the last possibly shorter). */
  chunk(chunks: number, axis = 0): Tensor[] { return sh.chunk(this, chunks, axis); }
  /** PyTorch's gather along `axis` with an index tensor of the same rank. */
  gather(axis: number, index: Tensor): Tensor { return sh.gather(this, axis, index); }
  /** The slices at `indices` along `axis`, e.g. the rows of a minibatch. */
  indexSelect(axis: number, indices: IndexLike): Tensor { return sh.indexSelect(this, axis, indices); }
  /** Matrix product (2-D, batched, or with 1-D vectors) through the backend. */
  matmul(o: Tensor): Tensor { return ly.matmul(this, o); }
  /** softmax along `axis` (default last). */
  softmax(axis = -1): Tensor { return ly.softmax(this, axis); }
  /** log softmax along `axis` (default last). */
  logSoftmax(axis = -1): Tensor { return ly.logSoftmax(this, axis); }
  /** Fused dense layer act(this·wᵀ + b), w stored [out, in]. */
  linear(w: Tensor, b?: Tensor | null, activation?: Activation): Tensor { return ly.linear(this, w, b, activation); }
  /** Functional dropout with probability p; `training` is required. */
  dropout(p: number, options: ly.DropoutOptions): Tensor { return ly.dropout(this, p, options); }
}

/**
 * Makes the output of an op; records the graph node when grad is enabled and some parent requires grad.
 * `backward` receives the output's gradient and must not keep or modify it.
 */
export function result(
  data: Float32Array,
  shape: Shape,
  op: string,
  parents: readonly Tensor[],
  backward: (g: Float32Array) => void,
): Tensor {
  const t = new Tensor(data, shape);
  if (gradEnabled && parents.some((p) => p.requiresGrad)) {
    t.requiresGrad = true;
    t.op = op;
    t._parents = parents;
    t._backward = backward;
  }
  return t;
}

/**
 * Adds g into t.grad (when t requires grad). With `owned`, g is a fresh array the caller gives away and may
 * become the grad buffer itself; otherwise it is copied first.
 */
export function accumulate(t: Tensor, g: Float32Array, owned: boolean): void {
  if (!t.requiresGrad) return;
  const zeroed = t._takeZeroedGrad();
  if (zeroed !== null) {
    zeroed.set(g);
    if (owned) release(g);
    return;
  }
  if (t.grad === null && !residentLeaf(t)) {
    // A user's leaf keeps a gradient of its own (never the engine's memory, whose blocks are reused).
    const mine = owned && !(t._backward === null && backend.isResident(g));
    t.grad = new Tensor(mine ? g : g.slice(), t.shape);
    if (owned && !mine) release(g);
    return;
  }
  if (t.grad === null) {
    gradBuffer(t).set(g);
    if (owned) release(g);
    return;
  }
  const d = t.grad.data;
  for (let i = 0; i < d.length; i++) d[i] += g[i]!;
  if (owned) release(g);
}

/** The grad buffer of t, created as zeros when absent, for kernels that accumulate in place. */
export function gradBuffer(t: Tensor): Float32Array {
  if (t.grad === null) {
    // A leaf's gradient outlives any `tidy` scope, so it never takes scoped storage.
    const data = t._backward !== null ? gradAlloc(t.size) : residentLeaf(t) ? backend.allocate(t.size) : new Float32Array(t.size);
    t.grad = new Tensor(data, t.shape);
  }
  return t.grad.data;
}

/**
 * Where a kernel that writes every element of t's gradient puts it: [storage, fresh]. When fresh (no gradient
 * yet, or one that `zeroGrad` zeroed), the kernel overwrites the storage (whose contents are undefined), else
 * it adds into it. An intermediate's new gradient is not cleared first.
 */
export function gradTarget(t: Tensor): [Float32Array, boolean] {
  const zeroed = t._takeZeroedGrad();
  if (zeroed !== null) return [zeroed, true];
  if (t.grad !== null) return [t.grad.data, false];
  if (t._backward === null) return [gradBuffer(t), true];
  const data = gradAlloc(t.size, false);
  t.grad = new Tensor(data, t.shape);
  return [data, true];
}

/**
 * Whether t is a leaf whose storage is in the backend's memory (a module's parameter): its gradient then lives
 * there too, for the kernels and the optimizer to use in place. Such a gradient is kept across steps (the
 * optimizers zero it in place).
 */
function residentLeaf(t: Tensor): boolean {
  return t._backward === null && backend.isResident(t.data);
}

/** Nodes that require grad reachable from root, every node after all of its parents. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const t = top[0];
    if (top[1] < t._parents.length) {
      const p = t._parents[top[1]++]!;
      if (p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

function format(t: Tensor): string {
  const summarize = t.size > 1000;
  const strides = t.shape.map((_, d) => sizeOf(t.shape.slice(d + 1)));
  const indices = (d: number) => {
    const n = t.shape[d]!;
    return summarize && n > 6 ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
  };
  // Offsets of the values shown; only those are formatted (and decide the number style).
  const shown: number[] = [];
  const walk = (d: number, off: number): void => {
    if (d === t.ndim) shown.push(off);
    else for (const i of indices(d)) if (i >= 0) walk(d + 1, off + i * strides[d]!);
  };
  walk(0, 0);
  const values = shown.map((o) => t.data[o]!);
  const ints = values.every((v) => Number.isInteger(v));
  const tiny = values.some((v) => Number.isFinite(v) && (Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-4)));
  const num = (v: number) =>
    !Number.isFinite(v) ? String(v) : ints ? v.toFixed(0) + "." : tiny ? v.toExponential(4) : v.toFixed(4);
  const cells = new Map(shown.map((o, i) => [o, num(values[i]!)]));
  const width = Math.max(0, ...[...cells.values()].map((c) => c.length));
  const pad = "tensor(".length;
  const build = (d: number, off: number): string => {
    if (d === t.ndim) return cells.get(off)!.padStart(width);
    const sep = d === t.ndim - 1 ? ", " : "," + "\n".repeat(t.ndim - d - 1) + " ".repeat(pad + d + 1);
    return "[" + indices(d).map((i) => (i < 0 ? "..." : build(d + 1, off + i * strides[d]!))).join(sep) + "]";
  };
  const extra = [summarize || (t.size === 0 && t.ndim > 1) ? `shape=${fmt(t.shape)}` : "", t.requiresGrad ? "requiresGrad=true" : ""].filter(Boolean);
  return `tensor(${build(0, 0)}${extra.length ? ", " + extra.join(", ") : ""})`;
}
