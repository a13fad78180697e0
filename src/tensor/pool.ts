import * as backend from "../backend/index.js";

/**
 * Recycled float32 storage. Large typed arrays are expensive to create (each is a fresh mapping of zeroed
 * pages plus garbage-collector pressure), and a training step makes the same sizes again and again. Arrays are
 * given back in two cases: gradients of intermediate tensors once backward has consumed them (owned by the
 * autograd engine alone and unreachable from user code), and the storage of tensors made inside `tidy` when it
 * returns (those tensors are disposed then: reading their data throws).
 */

const pool = new Map<number, Float32Array[]>();
let pooledBytes = 0;
/** Upper bound of the bytes kept for reuse. */
const LIMIT = 256 * 2 ** 20;
/** Smaller arrays are cheap to allocate and are not kept. */
const MIN_LENGTH = 1024;

/** An open `tidy` scope: the arrays `alloc` handed out in it and the tensors made in it. */
interface Scope {
  arrays: Set<Float32Array>;
  owners: Disposable[];
}
/** What a scope disposes: a tensor, through the storage it reads. */
export interface Disposable {
  readonly _storage: Float32Array;
  _dispose(): void;
}
const scopes: Scope[] = [];

/**
 * A zero-filled array of length n: recycled when possible; inside `tidy` (on a WebAssembly backend), from the
 * backend's memory. With `zero` false its contents may be anything, for a caller that writes them all.
 */
export function alloc(n: number, zero = true): Float32Array {
  const scope = scopes[scopes.length - 1];
  if (scope !== undefined && n >= MIN_LENGTH && backend.backendName() !== "js") {
    const a = backend.allocate(n, { collect: false, zero });
    scope.arrays.add(a);
    return a;
  }
  return poolAlloc(n, zero);
}

function poolAlloc(n: number, zero = true): Float32Array {
  const a = pool.get(n)?.pop();
  if (a === undefined) return new Float32Array(n);
  pooledBytes -= a.byteLength;
  return zero ? a.fill(0) : a;
}

/** n zero bytes, from `alloc`'s storage (so inside `tidy` they live in the backend's memory too). */
export function allocBytes(n: number): Uint8Array {
  if (scopes.length === 0 || n < 4 * MIN_LENGTH || backend.backendName() === "js") return new Uint8Array(n);
  const a = alloc(Math.ceil(n / 4));
  return new Uint8Array(a.buffer, a.byteOffset, n);
}

/**
 * An array of length n for a gradient that only the autograd engine sees: from the backend's memory (kernels
 * use it in place, and its block is reused at once when `release` gives it back). Zero-filled, unless `zero`
 * is false (for a caller that writes every element).
 */
export function gradAlloc(n: number, zero = true): Float32Array {
  if (n < MIN_LENGTH) return poolAlloc(n, zero);
  return zero ? backend.allocate(n) : backend.temporary(n);
}

/** Gives back an array that nothing references any more. */
export function release(a: Float32Array): void {
  if (backend.isResident(a)) {
    // A scoped array given back early leaves its scope, whose closing would otherwise dispose whatever
    // tensor gets its block next (a parameter's first gradient, say).
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.arrays.delete(a)) break;
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

/** Registers a tensor made while a `tidy` scope is open (the Tensor constructor calls this). */
export function track(t: Disposable): void {
  scopes[scopes.length - 1]?.owners.push(t);
}

/** Whether a's storage is an array handed out inside a `tidy` scope that is still open. */
export function isScoped(a: ArrayBufferView): boolean {
  for (const s of scopes) for (const b of s.arrays) if (overlaps(a, b)) return true;
  return false;
}

/** Whether two arrays share storage (resident arrays share one memory, whatever buffer object they hold). */
function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const same = a.buffer === b.buffer || (backend.isResident(a) && backend.isResident(b));
  return same && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** The storage of every tensor in v (a tensor, or arrays and plain objects holding tensors, at any depth). */
function storages(v: unknown, out: Float32Array[], seen = new Set<unknown>()): Float32Array[] {
  if (v === null || typeof v !== "object" || seen.has(v)) return out;
  seen.add(v);
  const s = (v as Partial<Disposable>)._storage;
  if (s instanceof Float32Array && typeof (v as Partial<Disposable>)._dispose === "function") out.push(s);
  else if (Array.isArray(v)) for (const x of v) storages(x, out, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) storages(x, out, seen);
  return out;
}

/**
 * Runs `fn` (synchronous) and then gives back the storage of every tensor made inside it, except the tensors
 * `fn` returns (alone, or in arrays and plain objects): those tensors are disposed, and reading their data
 * throws. While it runs, new tensors' storage comes from the backend's memory, so kernels work in place
 * without copies, and one training step reuses the previous step's blocks instead of making new arrays
 * (tfjs's `tidy`). Wrap one training step in it: forward, loss, `backward`, optimizer step, and whatever
 * reads the outputs (`loss.item()`). Parameters, optimizer state and leaf gradients are never disposed.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { arrays: new Set(), owners: [] };
  scopes.push(scope);
  closeLeftScopesLater();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    close(scope, []);
    throw e;
  }
  close(scope, storages(result, []));
  return result;
}

let closing = false;

/**
 * A scope is open only while its function runs, synchronously: one still open when the event loop next turns
 * was left by an execution that was terminated (an interrupted notebook cell), which skips `tidy`'s own
 * closing. Such scopes are closed then, their tensors disposed.
 */
function closeLeftScopesLater(): void {
  if (closing) return;
  closing = true;
  const timer = setTimeout(() => {
    closing = false;
    while (scopes.length > 0) close(scopes[scopes.length - 1]!, []);
  }, 0);
  (timer as { unref?: () => void }).unref?.();
}

function close(scope: Scope, kept: Float32Array[]): void {
  scopes.splice(scopes.lastIndexOf(scope), 1);
  const parent = scopes[scopes.length - 1];
  const freed: Float32Array[] = [];
  for (const a of scope.arrays) {
    if (!kept.some((k) => overlaps(a, k))) freed.push(a);
    else if (parent) parent.arrays.add(a);
    else backend.collect(a); // now the returned tensors' storage: given back when they are collected
  }
  // Scoped arrays are heap blocks of the backend's memory, and two blocks are the same bytes or disjoint: a
  // tensor is disposed when its storage lies in a freed block, found by binary search over the block starts.
  freed.sort((a, b) => a.byteOffset - b.byteOffset);
  const inFreed = (v: Float32Array): boolean => {
    if (!backend.isResident(v)) return false;
    let lo = 0;
    let hi = freed.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = freed[mid]!;
      if (v.byteOffset < b.byteOffset) hi = mid - 1;
      else if (v.byteOffset >= b.byteOffset + b.byteLength) lo = mid + 1;
      else return true;
    }
    return false;
  };
  for (const t of scope.owners) {
    if (inFreed(t._storage)) t._dispose();
    else parent?.owners.push(t);
  }
  for (const a of freed) release(a);
}
