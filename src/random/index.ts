/**
 * Explicit-key random numbers (JAX style) with a PyTorch-style default stream: every sampler takes a Key
 * first, or omits it to draw `nextKey()` from the stream set by `manualSeed`.
 */
import { keyed, type Key } from "./keys.js";
import { fillBernoulli, fillNormal, fillRandint, fillUniform, permutationArray } from "./sampling.js";
import { Tensor } from "../tensor/tensor.js";
import { checkShape, sizeOf, type Shape } from "../tensor/shape.js";

export { Key, key, split, foldIn, manualSeed, nextKey } from "./keys.js";

/** Options of `uniform`. */
export interface UniformOptions {
  /** Inclusive lower bound (default 0). */
  low?: number;
  /** Exclusive upper bound (default 1). */
  high?: number;
}

/** Options of `normal`. */
export interface NormalOptions {
  /** Mean (default 0). */
  mean?: number;
  /** Standard deviation (default 1). */
  std?: number;
}

function make(shape: Shape, op: string): Tensor {
  checkShape(shape, op);
  return new Tensor(new Float32Array(sizeOf(shape)), shape);
}

/** Uniform float32 values in [low, high): element j is low + (high − low)·u(word j). */
export function uniform(key: Key, shape: Shape, options?: UniformOptions): Tensor;
/** Uniform float32 values in [low, high): element j is low + (high − low)·u(word j). Without a key: the default stream's `nextKey()`. */
export function uniform(shape: Shape, options?: UniformOptions): Tensor;
export function uniform(...args: [Key, Shape, UniformOptions?] | [Shape, UniformOptions?]): Tensor {
  const [k, [shape, { low = 0, high = 1 } = {}]] = keyed<[Shape, UniformOptions?]>(args);
  if (!(Number.isFinite(low) && Number.isFinite(high) && Math.fround(low) < Math.fround(high))) {
    throw new RangeError(`uniform: need finite low < high, got [${low}, ${high})`);
  }
  const t = make(shape, "uniform");
  fillUniform(k, t.data, low, high);
  return t;
}

/** Normal values (Box–Muller over word pairs; see `fillNormal`). */
export function normal(key: Key, shape: Shape, options?: NormalOptions): Tensor;
/** Normal values (Box–Muller over word pairs; see `fillNormal`). Without a key: the default stream's `nextKey()`. */
export function normal(shape: Shape, options?: NormalOptions): Tensor;
export function normal(...args: [Key, Shape, NormalOptions?] | [Shape, NormalOptions?]): Tensor {
  const [k, [shape, { mean = 0, std = 1 } = {}]] = keyed<[Shape, NormalOptions?]>(args);
  if (!(Number.isFinite(mean) && Number.isFinite(std) && std >= 0)) throw new RangeError(`normal: need finite mean and std ≥ 0, got ${mean}, ${std}`);
  const t = make(shape, "normal");
  fillNormal(k, t.data, mean, std);
  return t;
}

/** 1 with probability p, else 0: element j is 1 when u(word j) < fround(p), the backend's dropout keep rule. */
export function bernoulli(key: Key, shape: Shape, p: number): Tensor;
/** 1 with probability p, else 0: element j is 1 when u(word j) < fround(p), the backend's dropout keep rule. Without a key: the default stream's `nextKey()`. */
export function bernoulli(shape: Shape, p: number): Tensor;
export function bernoulli(...args: [Key, Shape, number] | [Shape, number]): Tensor {
  const [k, [shape, p]] = keyed<[Shape, number]>(args);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: p must be in [0, 1], got ${p}`);
  const t = make(shape, "bernoulli");
  fillBernoulli(k, t.data, p);
  return t;
}

/** Integers in [low, high) as float32 values (|low|, |high| ≤ 2^24 so they are exact). */
export function randint(key: Key, shape: Shape, low: number, high: number): Tensor;
/** Integers in [low, high) as float32 values (|low|, |high| ≤ 2^24 so they are exact). Without a key: the default stream's `nextKey()`. */
export function randint(shape: Shape, low: number, high: number): Tensor;
export function randint(...args: [Key, Shape, number, number] | [Shape, number, number]): Tensor {
  const [k, [shape, low, high]] = keyed<[Shape, number, number]>(args);
  const ok = (v: number) => Number.isInteger(v) && Math.abs(v) <= 2 ** 24;
  if (!(ok(low) && ok(high) && low < high)) throw new RangeError(`randint: need integers low < high within ±2^24, got [${low}, ${high})`);
  const t = make(shape, "randint");
  fillRandint(k, t.data, low, high);
  return t;
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates over the key's stream). */
export function permutation(key: Key, n: number): Int32Array;
/** A uniformly random permutation of 0..n−1 (Fisher–Yates over the key's stream). Without a key: the default stream's `nextKey()`. */
export function permutation(n: number): Int32Array;
export function permutation(...args: [Key, number] | [number]): Int32Array {
  const [k, [n]] = keyed<[number]>(args);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new RangeError(`permutation: n must be an integer in [0, 2^31), got ${n}`);
  return permutationArray(k, n);
}

