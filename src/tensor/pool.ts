import * as backend from "../backend/index.js";

/**
 * Recycled float32 storage. Large typed arrays are expensive to create (each is a fresh mapping of zeroed
 * pages plus garbage-collector pressure), and a training step makes the same sizes again and again. The only
 * arrays given back are gradients of intermediate tensors once backward has consumed them: those are owned by
 * the autograd engine alone and unreachable from user code, so handing them out again is safe.
 */

const pool = new Map<number, Float32Array[]>();
let pooledBytes = 0;
/** Upper bound of the bytes kept for reuse. */
const LIMIT = 256 * 2 ** 20;
/** Smaller arrays are cheap to allocate and are not kept. */
const MIN_LENGTH = 1024;

/** A zero-filled array of length n, recycled when possible. */
export function alloc(n: number): Float32Array {
  const a = pool.get(n)?.pop();
  if (a === undefined) return new Float32Array(n);
  pooledBytes -= a.byteLength;
  return a.fill(0);
}

/**
 * An array of length n for a gradient that only the autograd engine sees: from the backend's memory (kernels
 * use it in place, and its block is reused at once when `release` gives it back). Zero-filled, unless `zero`
 * is false (for a caller that writes every element).
 */
export function gradAlloc(n: number, zero = true): Float32Array {
  if (n < MIN_LENGTH) return alloc(n);
  return zero ? backend.allocate(n) : backend.temporary(n);
}

/** Gives back an array that nothing references any more. */
export function release(a: Float32Array): void {
  if (backend.isResident(a)) {
    backend.releaseIfAllocated(a);
    return;
  }
  if (a.length < MIN_LENGTH || pooledBytes + a.byteLength > LIMIT || a.byteOffset !== 0) return;
  let list = pool.get(a.length);
  if (list === undefined) pool.set(a.length, (list = []));
  list.push(a);
  pooledBytes += a.byteLength;
}

/** Drops every recycled array so the garbage collector can free it (PyTorch's `empty_cache`). */
export function emptyCache(): void {
  pool.clear();
  pooledBytes = 0;
}
