/** Building tensors: from arrays, constants, ranges and random keys. */
import { keyed, type Key } from "../random/keys.js";
import { fillNormal, fillUniform } from "../random/sampling.js";
import { Tensor, type NestedArray } from "./tensor.js";
import { checkShape, fmt, sizeOf, type Shape } from "./shape.js";

/** Options for creating a tensor. */
export interface TensorOptions {
  /** Whether gradients flow to the new (leaf) tensor; default false. */
  requiresGrad?: boolean;
}

/** Options of `tensor()`. */
export interface FromDataOptions extends TensorOptions {
  /** The shape of flat data (default: inferred from nesting, or 1-D for flat data). */
  shape?: Shape;
}

type Flat = ArrayLike<number>;

function flatten(data: NestedArray | Flat, shape: number[], out: number[], depth: number): void {
  if (typeof data === "number") {
    if (depth !== shape.length) throw new Error(`tensor: ragged nested array at depth ${depth}`);
    out.push(data);
    return;
  }
  if (typeof data !== "object" || data === null || typeof data.length !== "number") {
    throw new TypeError(`tensor: expected numbers or arrays, got ${String(data)}`);
  }
  if (depth === shape.length) {
    if (out.length > 0) throw new Error(`tensor: ragged nested array at depth ${depth}`);
    shape.push(data.length);
  } else if (shape[depth] !== data.length) {
    throw new Error(`tensor: ragged nested array at depth ${depth}: expected length ${shape[depth]}, got ${data.length}`);
  }
  for (let i = 0; i < data.length; i++) flatten((data as ArrayLike<NestedArray>)[i]!, shape, out, depth + 1);
}

/**
 * A new tensor (always a copy) from a number, nested arrays, or a flat array / typed array with an optional
 * `shape`: `tensor([[1, 2], [3, 4]], { requiresGrad: true })`, `tensor(floatArray, { shape: [60000, 784] })`.
 */
export function tensor(data: NestedArray | Flat, options: FromDataOptions = {}): Tensor {
  let values: Float32Array;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    values = Float32Array.from(data as Flat);
    shape = [values.length];
  } else {
    shape = [];
    const out: number[] = [];
    flatten(data, shape, out, 0);
    values = Float32Array.from(out);
  }
  if (options.shape) {
    checkShape(options.shape, "tensor");
    if (sizeOf(options.shape) !== values.length) throw new Error(`tensor: ${values.length} values do not fill shape ${fmt(options.shape)}`);
    shape = [...options.shape];
  }
  return new Tensor(values, shape, options.requiresGrad ?? false);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  checkShape(shape, "full");
  return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape, options.requiresGrad ?? false);
}

/** Zeros of `shape`. */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** Ones of `shape`. */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Zeros of t's shape. */
export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return full(t.shape, 0, options);
}

/** Ones of t's shape. */
export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return full(t.shape, 1, options);
}

/** start, start + step, ... below end (`arange(n)` is 0..n−1), as PyTorch. */
export function arange(start: number, end?: number, step = 1): Tensor {
  const [a, b] = end === undefined ? [0, start] : [start, end];
  if (!(step !== 0 && Number.isFinite(step) && Number.isFinite(a) && Number.isFinite(b))) {
    throw new RangeError(`arange: invalid range (${start}, ${end}, ${step})`);
  }
  const n = Math.max(0, Math.ceil((b - a) / step));
  return new Tensor(Float32Array.from({ length: n }, (_, i) => a + i * step), [n]);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n): Tensor {
  const t = zeros([n, m]);
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return t;
}

/** Uniform values in [0, 1) from `key` (or the default stream): `rand(key, [2, 3])`, `rand([2, 3])`. */
export function rand(key: Key, shape: Shape, options?: TensorOptions): Tensor;
/** Uniform values in [0, 1) from `key` (or the default stream): `rand(key, [2, 3])`, `rand([2, 3])`. Without a key: the default stream's `nextKey()`. */
export function rand(shape: Shape, options?: TensorOptions): Tensor;
export function rand(...args: [Key, Shape, TensorOptions?] | [Shape, TensorOptions?]): Tensor {
  const [k, [shape, options = {}]] = keyed<[Shape, TensorOptions?]>(args);
  checkShape(shape, "rand");
  const t = new Tensor(new Float32Array(sizeOf(shape)), shape, options.requiresGrad ?? false);
  fillUniform(k, t.data, 0, 1);
  return t;
}

/** Standard normal values from `key` (or the default stream): `randn(key, [2, 3])`, `randn([2, 3])`. */
export function randn(key: Key, shape: Shape, options?: TensorOptions): Tensor;
/** Standard normal values from `key` (or the default stream): `randn(key, [2, 3])`, `randn([2, 3])`. Without a key: the default stream's `nextKey()`. */
export function randn(shape: Shape, options?: TensorOptions): Tensor;
export function randn(...args: [Key, Shape, TensorOptions?] | [Shape, TensorOptions?]): Tensor {
  const [k, [shape, options = {}]] = keyed<[Shape, TensorOptions?]>(args);
  checkShape(shape, "randn");
  const t = new Tensor(new Float32Array(sizeOf(shape)), shape, options.requiresGrad ?? false);
  fillNormal(k, t.data, 0, 1);
  return t;
}
