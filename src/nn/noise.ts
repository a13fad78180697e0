/**
 * Random streams of the stochastic modules: each module owns a KeyStream, started from an explicit key or the
 * next key of the `manualSeed` stream at construction, and takes one key per forward pass from it, so masks
 * are reproducible for a given seed and differ from step to step.
 */
import { Key, foldIn, nextKey } from "../random/keys.js";
import * as backend from "../backend/index.js";
import { Tensor } from "../tensor/tensor.js";
import { sizeOf, type Shape } from "../tensor/shape.js";
import type { Module } from "./module.js";

/** A counter over one key: the n-th call of `next()` returns foldIn(base, n). */
export class KeyStream {
  #base: Key;
  #count = 0;
  constructor(key?: Key) {
    if (key !== undefined && !(key instanceof Key)) throw new TypeError(`KeyStream: key must be a Key, got ${String(key)}`);
    this.#base = key ?? nextKey();
  }
  /** The next key of the stream. */
  next(): Key {
    return foldIn(this.#base, this.#count++);
  }
  /** Restarts the stream from `key`. */
  reset(key: Key): void {
    this.#base = key;
    this.#count = 0;
  }
  /** The base key and counter, for `restore`. */
  save(): [Key, number] {
    return [this.#base, this.#count];
  }
  /** Puts back a state from `save`. */
  restore([base, count]: [Key, number]): void {
    this.#base = base;
    this.#count = count;
  }
}

/** A module that draws random numbers in training mode (dropout layers, regularized RNNs). */
export interface Stochastic {
  /** The module's own key stream. */
  readonly stream: KeyStream;
}

/** Whether a module owns a key stream. */
export function isStochastic(m: Module): m is Module & Stochastic {
  return (m as Partial<Stochastic>).stream instanceof KeyStream;
}

/** Bernoulli keep mask of `shape` (unit j kept when u(word j) < 1 − p) holding `scale` where kept and 0 elsewhere. */
export function keepMask(key: Key, shape: Shape, p: number, scale: number): Tensor {
  return new Tensor(drawKeepMask(key, p, scale, new Float32Array(sizeOf(shape))), shape);
}

/** Fills d with keepMask's values (for d.length units) and returns it. */
export function drawKeepMask(key: Key, p: number, scale: number, d: Float32Array): Float32Array {
  // The backend's fused dropout draws by fillBernoulli's rule (u(word j) < fround(1 − p)) and writes
  // float32(scale) where kept; its other output, x · mask with x zero, is written over x and stays zero.
  if (zeros.length < d.length) zeros = new Float32Array(d.length);
  const zero = zeros.subarray(0, d.length);
  backend.dropout(key.k0, key.k1, 0, 1 - p, scale, zero, zero, d);
  return d;
}

/** All zeros, shared by every keepMask call (it stays zero). */
let zeros = new Float32Array(0);

/** a·src + b elementwise, as a new array. */
export function affine(src: Float32Array, a: number, b = 0): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = a * src[i]! + b;
  return out;
}

/** Throws unless p is a probability (p < 1 unless `allowOne`). */
export function checkRate(op: string, p: number, allowOne = false): void {
  if (!(typeof p === "number" && p >= 0 && (allowOne ? p <= 1 : p < 1))) {
    throw new RangeError(`${op}: rate must be in [0, ${allowOne ? "1]" : "1)"}, got ${p}`);
  }
}
