/**
 * The hot kernels behind the tensor library. Every function works on plain row-major, contiguous
 * Float32Arrays and is synchronous. Three backends implement them: "relaxed" (WebAssembly SIMD128 with
 * relaxed-SIMD fused multiply-add), "simd" (SIMD128, multiply then add) and "js" (the scalar reference in
 * ./reference.ts). The best one available is chosen on first use; `DROPOUT_LAB_BACKEND=js|simd|relaxed`
 * forces one (an error if it is unavailable) and `useBackend` switches at run time.
 *
 * The WebAssembly backends run on one shared WebAssembly.Memory: operands outside it are copied into a
 * reused scratch region and results copied back; arrays from `allocate` live in it and are used in place
 * (no copies). Large calls are split over a worker pool (`os.availableParallelism()` threads, or
 * `DROPOUT_LAB_THREADS`; 1 = no workers) by whole output tiles, so results do not depend on the thread
 * count. Matmul, linear and convolution results differ from the reference only by summation order (and FMA
 * rounding under "relaxed"); every other kernel matches the reference bit for bit.
 */
import { availableParallelism } from "node:os";
import * as ref from "./reference.js";
import { Runtime, availableModules, type WasmBackend, type WasmModule } from "./runtime.js";

export type { Activation, BinaryOp, LstmMasks, LstmBackwardMasks } from "./reference.js";
import type { Activation, BinaryOp, LstmMasks, LstmBackwardMasks } from "./reference.js";

export type BackendName = "js" | "simd" | "relaxed";

let runtime: Runtime | null = null;
let current: BackendName | null = null;
let modules: Map<WasmBackend, WasmModule> | null = null;

function loadModules(): Map<WasmBackend, WasmModule> {
  return (modules ??= availableModules());
}

function envThreads(): number {
  const v = process.env["DROPOUT_LAB_THREADS"];
  if (v === undefined || v === "") return availableParallelism();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`DROPOUT_LAB_THREADS must be a positive integer, got "${v}"`);
  return n;
}

/** Backends usable in this process, best first. */
export function availableBackends(): BackendName[] {
  return [...loadModules().keys(), "js"];
}

/**
 * Switches to backend `name` (throws if unavailable). A WebAssembly backend gets a fresh memory and pool of
 * `threads` threads (default: DROPOUT_LAB_THREADS or the machine's parallelism); arrays from an earlier
 * `allocate` stay valid but are then copied like any other array.
 */
export function useBackend(name: BackendName, threads = envThreads()): void {
  if (name !== "js" && name !== "simd" && name !== "relaxed") {
    throw new Error(`unknown backend "${String(name)}" (expected js, simd or relaxed)`);
  }
  const module = name === "js" ? null : loadModules().get(name);
  if (module === undefined) {
    throw new Error(
      `backend "${name}" is unavailable here (available: ${availableBackends().join(", ")}); ` +
        (buildMissing() ? "run `npm run build:wasm`" : "this runtime cannot compile it"),
    );
  }
  runtime?.shutdown();
  runtime = module ? new Runtime(name as WasmBackend, module, threads) : null;
  current = name;
}

function buildMissing(): boolean {
  return loadModules().size === 0;
}

function rt(): Runtime | null {
  if (current === null) {
    const forced = process.env["DROPOUT_LAB_BACKEND"];
    if (forced !== undefined && forced !== "") useBackend(forced as BackendName);
    else useBackend(availableBackends()[0]!);
  }
  return runtime;
}

/** The backend in use. */
export function backendName(): BackendName {
  rt();
  return current!;
}

/** Threads the current backend splits large calls over (1 for "js"). */
export function threadCount(): number {
  return rt()?.threads() ?? 1;
}

/** Resizes the worker pool: n threads in all, the calling thread included (1 = no workers). */
export function setThreads(n: number): void {
  const r = rt();
  if (r) r.setThreads(n);
  else if (!Number.isInteger(n) || n < 1) throw new RangeError(`thread count must be a positive integer, got ${n}`);
}

/** Stops the worker pool's threads (they never keep the process alive; this just ends them now). */
export function shutdown(): void {
  runtime?.shutdown();
}

/**
 * A zero-filled Float32Array of n elements whose storage is the backend's memory, so kernels use it in
 * place without copies (a plain Float32Array under "js"). Its block returns to the heap when this array
 * object is garbage-collected, or at `release`: keep this object alive as long as any view of it
 * (subarray, another typed array over the same bytes) is in use.
 */
export function allocate(n: number, options: AllocateOptions = {}): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`allocate: length must be a non-negative integer, got ${n}`);
  const r = rt();
  return r ? r.allocate(n, options.zero ?? true, options.collect ?? true) : new Float32Array(n);
}

/** Options of `allocate`. */
export interface AllocateOptions {
  /**
   * Return the block to the heap when the array is garbage-collected (default true). With false, only
   * `release` (or a later `collect`) gives it back: for owners that release what they allocate, and so
   * spare the garbage collector's bookkeeping.
   */
  collect?: boolean;
  /** Fill it with zeros (default true); with false its contents are left as they are, for a caller that writes them all. */
  zero?: boolean;
}

/** Makes an array from `allocate({ collect: false })` return to the heap when it is garbage-collected. */
export function collect(a: Float32Array): void {
  rt()?.collect(a);
}

/**
 * Like `allocate` but the contents are left as they are (garbage): for temporaries that are written in
 * full before they are read and given back with `release` right after use.
 */
export function temporary(n: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`temporary: length must be a non-negative integer, got ${n}`);
  const r = rt();
  return r ? r.allocate(n, false) : new Float32Array(n);
}

/**
 * Returns an array from `allocate` to the heap immediately (finalizers only run when the event loop turns,
 * so a long synchronous loop that allocates should release what it no longer needs). The array and every
 * view of it must not be used afterwards. Throws for any other array (under "js" it is a no-op).
 */
export function release(a: Float32Array): void {
  const r = rt();
  if (r && !r.free(a)) throw new Error("release: the array was not returned by allocate (or was released already)");
}

/** Like `release`, but an array that `allocate` did not return (or one released already) is left alone. */
export function releaseIfAllocated(a: Float32Array): void {
  rt()?.free(a);
}

/** Whether `a` lives in the backend's memory (kernels then read and write it in place). */
export function isResident(a: ArrayBufferView): boolean {
  return rt()?.resident(a) ?? false;
}

function check(a: Float32Array | null, n: number, what: string, fn: string): void {
  if (a !== null && a.length < n) throw new RangeError(`${fn}: ${what} has ${a.length} elements, needs ${n}`);
}

function dims(fn: string, ...d: number[]): void {
  for (const v of d) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${fn}: dimensions must be non-negative integers, got ${d.join(", ")}`);
  }
}

// Below these sizes a call runs on the calling thread: waking a worker costs more than it saves. Dropout's
// masks, the LSTM cell and compressing a sparse operand cost nanoseconds per element (a hidden layer's
// dropout, 80 000 units, about 150 µs on one thread), the other elementwise kernels far less.
const PARALLEL_MACS = 1 << 22;
const PARALLEL_ELEMENTS = 1 << 18;
const PARALLEL_COSTLY = 1 << 14;

const ACT_CODE: Record<Activation, number> = { none: 0, relu: 1, tanh: 2, sigmoid: 3 };

// Products whose op(a) has at most this fraction of non-zeros take the sparse path (see setSparseDensity).
const SPARSE_DENSITY = 0.5;
let sparseDensity = SPARSE_DENSITY;
// Below this many columns of c, compressing op(a) costs more than skipping its zeros saves.
const SPARSE_MIN_COLUMNS = 64;

/**
 * Sets the largest fraction of non-zeros in a matrix product's left operand op(a) for which the WebAssembly
 * backends skip its zeros (as after ReLU and dropout): 0 never does, 1 always does; the default is 0.5 (below 1,
 * a product with fewer than 64 columns never does: compressing op(a) would cost more than it saves). The
 * results are the same floats either way (except that a zero in op(a) times an infinity or NaN in op(b) gives
 * NaN only without skipping, and a zero result's sign may differ). Returns the previous setting.
 */
export function setSparseDensity(maxDensity: number): number {
  if (!(maxDensity >= 0 && maxDensity <= 1)) throw new RangeError(`setSparseDensity: expected a fraction in [0, 1], got ${maxDensity}`);
  const previous = sparseDensity;
  sparseDensity = maxDensity;
  return previous;
}

const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;

function gemm(
  r: Runtime,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
  bias: Float32Array | null,
  act: Activation,
): void {
  const K = r.kernels;
  const threads = m * n * k >= PARALLEL_MACS ? r.threads() : 1;
  // With threads, A is packed once for all of them (each packing a share), and they claim chunks through a counter.
  const packedBytes = threads > 1 ? align(K.gemmPackedABytes(m, k)) + 64 : 0;
  const denseBytes = K.gemmWorkspaceBytes() * threads + packedBytes;
  // The sparse path: op(a)'s index and entries (room for k per row), the workspaces of every thread and a counter.
  const limit = n >= SPARSE_MIN_COLUMNS || sparseDensity === 1 ? Math.floor(sparseDensity * m * k) : 0;
  const entriesBytes = m * k * 8;
  const sparseBytes = limit > 0 ? align(K.sparseIndexBytes(m, k)) + align(entriesBytes) + K.sparseWorkspaceBytes() * r.threads() + 64 : 0;
  r.scratch(r.need(a, m * k) + r.need(b, k * n) + r.need(c, m * n) + r.need(bias, n) + Math.max(denseBytes, sparseBytes));
  const pa = r.place(a, m * k);
  const pb = r.place(b, k * n);
  const pc = r.place(c, m * n, accumulate);
  const pbias = bias ? r.place(bias, n) : 0;
  const nnz = limit > 0 ? K.sparseCount(pa, m * k, limit) : Infinity;
  if (nnz <= limit) {
    const index = r.reserve(K.sparseIndexBytes(m, k));
    const entries = r.reserve(entriesBytes);
    r.run("sparsePack", [pa, m, k, +transA, index, entries], m * k >= PARALLEL_COSTLY ? r.threads() : 1);
    const nt = nnz * n >= PARALLEL_MACS ? r.threads() : 1;
    const work = r.reserve(K.sparseWorkspaceBytes() * nt);
    const counter = r.reserve(4);
    r.f32[counter >> 2] = 0;
    r.run("sparseGemm", [index, entries, pb, pc, m, n, k, +transB, +accumulate, pbias, ACT_CODE[act], work, counter], nt);
  } else {
    const work = r.reserve(K.gemmWorkspaceBytes() * threads);
    let packed = 0;
    let counter = 0;
    if (threads > 1) {
      packed = r.reserve(K.gemmPackedABytes(m, k));
      counter = r.reserve(4);
      r.f32[counter >> 2] = 0;
      r.run("gemmPackA", [pa, m, k, +transA, packed], threads);
    }
    r.run("gemm", [pa, pb, pc, m, n, k, +transA, +transB, +accumulate, pbias, ACT_CODE[act], work, packed, counter], threads);
  }
  r.back(c, pc, m * n);
}

/**
 * c[m×n] = op(a) · op(b) (+ c when accumulate), where op(a) is m×k (a stored k×m when transA) and
 * op(b) is k×n (b stored n×k when transB).
 */
export function matmul(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  transA = false,
  transB = false,
  accumulate = false,
): void {
  dims("matmul", m, n, k);
  check(a, m * k, "a", "matmul");
  check(b, k * n, "b", "matmul");
  check(c, m * n, "c", "matmul");
  const r = rt();
  if (!r || k === 0 || m * n === 0) ref.matmul(a, b, c, m, n, k, transA, transB, accumulate);
  else gemm(r, a, b, c, m, n, k, transA, transB, accumulate, null, "none");
}

/**
 * Fused dense layer: out[batch×outF] = act(x[batch×inF] · wᵀ + bias), w stored [outF×inF] as in PyTorch.
 * bias may be null.
 */
export function linear(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  batch: number,
  inF: number,
  outF: number,
  activation: Activation = "none",
): void {
  dims("linear", batch, inF, outF);
  check(x, batch * inF, "x", "linear");
  check(w, outF * inF, "w", "linear");
  check(bias, outF, "bias", "linear");
  check(out, batch * outF, "out", "linear");
  if (!(activation in ACT_CODE)) throw new Error(`linear: unknown activation "${activation}"`);
  const r = rt();
  if (!r || inF === 0 || batch * outF === 0) ref.linear(x, w, bias, out, batch, inF, outF, activation);
  else gemm(r, x, w, out, batch, outF, inF, false, true, false, bias, activation);
}

/**
 * Fused dropout mask generation and application. Unit j keeps when uniform(stream word offset + j of key
 * (k0, k1)) < keepProb; then mask[j] = scale and out[j] = x[j] * scale, else both are 0 (x[j] · 0).
 * Bit-identical across backends and worker counts: mask[j] = float32(scale), out[j] = float32(x[j] · scale)
 * with the product in double precision; the stream is src/random/philox.ts's. With mask null, no float
 * mask is written. With `keep`, keep[j] = 1 for a kept unit and 0 for a dropped one (one byte per unit), for
 * the backward pass's `dropoutApply`.
 */
export function dropout(
  k0: number,
  k1: number,
  offset: number,
  keepProb: number,
  scale: number,
  x: Float32Array,
  out: Float32Array,
  mask: Float32Array | null,
  keep: Uint8Array | null = null,
): void {
  const n = x.length;
  check(out, n, "out", "dropout");
  check(mask, n, "mask", "dropout");
  if (keep !== null && keep.length < n) throw new RangeError(`dropout: keep has ${keep.length} elements, needs ${n}`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`dropout: offset must be a non-negative safe integer, got ${offset}`);
  const r = rt();
  if (!r || n === 0) {
    ref.dropout(k0, k1, offset, keepProb, scale, x, out, mask, keep);
    return;
  }
  r.scratch(r.need(x, n) + r.need(out, n) + r.need(mask, n) + r.need(keep, n));
  const px = r.place(x, n);
  const po = r.place(out, n, false);
  const pm = mask ? r.place(mask, n, false) : 0;
  const pk = keep ? r.place(keep, n, false) : 0;
  r.run("dropout", [k0 >>> 0, k1 >>> 0, offset, keepProb, scale, px, po, pm, pk, n], n >= PARALLEL_COSTLY ? r.threads() : 1);
  r.back(out, po, n);
  if (mask) r.back(mask, pm, n);
  if (keep) r.back(keep, pk, n);
}

/**
 * The backward of `dropout` from its byte mask: out[j] = float32(g[j] · scale) where keep[j] is nonzero, else
 * g[j] · 0 (the product in double precision, as `dropout` takes it), bit-identical across backends and worker
 * counts. out may be g.
 */
export function dropoutApply(keep: Uint8Array, scale: number, g: Float32Array, out: Float32Array): void {
  const n = g.length;
  if (keep.length < n) throw new RangeError(`dropoutApply: keep has ${keep.length} elements, needs ${n}`);
  check(out, n, "out", "dropoutApply");
  const r = rt();
  if (!r || n === 0) {
    ref.dropoutApply(keep, scale, g, out);
    return;
  }
  r.scratch(r.need(keep, n) + r.need(g, n) + (out === g ? 0 : r.need(out, n)));
  const pk = r.place(keep, n);
  const pg = r.place(g, n);
  const po = out === g ? pg : r.place(out, n, false);
  r.run("dropoutApply", [pk, scale, pg, po, n], n >= PARALLEL_ELEMENTS ? r.threads() : 1);
  r.back(out, po, n);
}

/** Sets every element of a to 0 (in the backend's memory with a bulk fill, several times faster there). */
export function zero(a: Float32Array): void {
  const r = rt();
  if (r && r.resident(a)) r.run("zero", [a.byteOffset, a.length], a.length >= PARALLEL_ELEMENTS ? r.threads() : 1);
  else a.fill(0);
}

/**
 * Runs an elementwise kernel: in place when every array is resident, else by the reference (copying in
 * and out of the memory would cost as much as the JavaScript loop). `arrays` are inputs then outputs.
 */
function elementwise(
  r: Runtime | null,
  inputs: Float32Array[],
  outputs: Float32Array[],
  op: "relu" | "reluBackward" | "binary" | "binaryRow" | "sumRows" | "axpy" | "sgdMomentum",
  leading: number[],
  trailing: number[],
  size: number,
): boolean {
  if (!r || size === 0) return false;
  for (const a of inputs) if (!r.resident(a)) return false;
  for (const a of outputs) if (!r.resident(a)) return false;
  const ptrs = [...inputs, ...outputs].map((a) => a.byteOffset);
  r.run(op, [...leading, ...ptrs, ...trailing], size >= PARALLEL_ELEMENTS ? r.threads() : 1);
  return true;
}

/**
 * Runs a one-output elementwise kernel over n elements, copying operands outside the memory in and the
 * output back: worth it for the ReLU kernels, whose branch-free SIMD beats the JavaScript loop's
 * unpredictable branch on mixed signs by more than the copies cost.
 */
function copied(r: Runtime, op: "relu" | "reluBackward", inputs: Float32Array[], out: Float32Array, n: number): void {
  r.scratch(inputs.reduce((s, a) => s + r.need(a, n), 0) + r.need(out, n));
  const ptrs = inputs.map((a) => r.place(a, n));
  const po = r.place(out, n, false);
  r.run(op, [...ptrs, po, n], n >= PARALLEL_ELEMENTS ? r.threads() : 1);
  r.back(out, po, n);
}

/** out = x > 0 ? x : 0 (NaN gives 0). */
export function relu(x: Float32Array, out: Float32Array): void {
  check(out, x.length, "out", "relu");
  const r = rt();
  if (!r || x.length === 0) ref.relu(x, out);
  else copied(r, "relu", [x], out, x.length);
}

/** dx = y > 0 ? dy : 0, with y the relu input or output. */
export function reluBackward(dy: Float32Array, y: Float32Array, dx: Float32Array): void {
  check(y, dy.length, "y", "reluBackward");
  check(dx, dy.length, "dx", "reluBackward");
  const r = rt();
  if (!r || dy.length === 0) ref.reluBackward(dy, y, dx);
  else copied(r, "reluBackward", [dy, y], dx, dy.length);
}

const OP_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2 };

/** out = a (op) b elementwise in float32; op is "add", "sub" or "mul". */
export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  if (!(op in OP_CODE)) throw new Error(`binary: unknown op "${op}"`);
  check(b, a.length, "b", "binary");
  check(out, a.length, "out", "binary");
  if (!elementwise(rt(), [a, b], [out], "binary", [OP_CODE[op]], [a.length], a.length)) ref.binary(op, a, b, out);
}

/** out[i, j] = x[i, j] (op) row[j] for x of rows×cols (bias add, per-feature scaling). */
export function binaryRow(
  op: BinaryOp,
  x: Float32Array,
  row: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
): void {
  if (!(op in OP_CODE)) throw new Error(`binaryRow: unknown op "${op}"`);
  dims("binaryRow", rows, cols);
  check(x, rows * cols, "x", "binaryRow");
  check(row, cols, "row", "binaryRow");
  check(out, rows * cols, "out", "binaryRow");
  if (!elementwise(rt(), [x, row], [out], "binaryRow", [OP_CODE[op]], [rows, cols], rows * cols)) {
    ref.binaryRow(op, x, row, out, rows, cols);
  }
}

/** out[j] = (accumulate ? out[j] : 0) + Σ_i x[i, j] in float32, rows in ascending order (bias gradients). */
export function sumRows(x: Float32Array, out: Float32Array, rows: number, cols: number, accumulate = false): void {
  dims("sumRows", rows, cols);
  check(x, rows * cols, "x", "sumRows");
  check(out, cols, "out", "sumRows");
  if (!elementwise(rt(), [x], [out], "sumRows", [], [rows, cols, +accumulate], rows * cols)) {
    ref.sumRows(x, out, rows, cols, accumulate);
  }
}

/** y += alpha · x in float32. */
export function axpy(alpha: number, x: Float32Array, y: Float32Array): void {
  check(y, x.length, "y", "axpy");
  if (!elementwise(rt(), [x], [y], "axpy", [alpha], [x.length], x.length)) ref.axpy(alpha, x, y);
}

/** SGD with momentum as PyTorch does it (dampening 0): v = momentum · v + g; w -= lr · v, in float32. */
export function sgdMomentum(w: Float32Array, g: Float32Array, v: Float32Array, lr: number, momentum: number): void {
  check(g, w.length, "g", "sgdMomentum");
  check(v, w.length, "v", "sgdMomentum");
  if (!elementwise(rt(), [w, g, v], [], "sgdMomentum", [], [lr, momentum, w.length], w.length)) {
    ref.sgdMomentum(w, g, v, lr, momentum);
  }
}

function convDims(fn: string, c: number, h: number, w: number, kh: number, kw: number, stride: number, pad: number): [number, number] {
  dims(fn, c, h, w, kh, kw, pad);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`${fn}: stride must be a positive integer, got ${stride}`);
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  if (kh < 1 || kw < 1 || oh < 1 || ow < 1) throw new RangeError(`${fn}: kernel ${kh}×${kw} does not fit ${h}×${w} with padding ${pad}`);
  return [oh, ow];
}

/**
 * im2col for one image: x[c×h×w] → cols[(c·kh·kw) × (oh·ow)] with zero padding, stride, dilation 1.
 */
export function im2col(
  x: Float32Array,
  cols: Float32Array,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
): void {
  const [oh, ow] = convDims("im2col", c, h, w, kh, kw, stride, pad);
  const nx = c * h * w;
  const nc = c * kh * kw * oh * ow;
  check(x, nx, "x", "im2col");
  check(cols, nc, "cols", "im2col");
  const r = rt();
  if (!r || nc === 0) {
    ref.im2col(x, cols, c, h, w, kh, kw, stride, pad);
    return;
  }
  r.scratch(r.need(x, nx) + r.need(cols, nc));
  const px = r.place(x, nx);
  const pc = r.place(cols, nc, false);
  r.run("im2col", [px, pc, c, h, w, kh, kw, stride, pad], nc >= PARALLEL_ELEMENTS ? r.threads() : 1);
  r.back(cols, pc, nc);
}

/** col2im for one image: the adjoint of im2col; adds cols back into dx[c×h×w] (dx is not cleared). */
export function col2im(
  cols: Float32Array,
  dx: Float32Array,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
): void {
  const [oh, ow] = convDims("col2im", c, h, w, kh, kw, stride, pad);
  const nx = c * h * w;
  const nc = c * kh * kw * oh * ow;
  check(cols, nc, "cols", "col2im");
  check(dx, nx, "dx", "col2im");
  const r = rt();
  if (!r || nc === 0) {
    ref.col2im(cols, dx, c, h, w, kh, kw, stride, pad);
    return;
  }
  r.scratch(r.need(cols, nc) + r.need(dx, nx));
  const pc = r.place(cols, nc);
  const px = r.place(dx, nx);
  r.run("col2im", [pc, px, c, h, w, kh, kw, stride, pad], nc >= PARALLEL_ELEMENTS ? r.threads() : 1);
  r.back(dx, px, nx);
}

/** Images per fixed run of convBackward's weight gradient: partial sums per run, then added in run order. */
const CONV_GROUPS = 8;

function convShape(fn: string, n: number, c: number, h: number, w: number, o: number, k: number, stride: number, pad: number) {
  const [oh, ow] = convDims(fn, c, h, w, k, k, stride, pad);
  dims(fn, n, o);
  return { l: oh * ow, kk: c * k * k, nx: n * c * h * w, no: n * o * oh * ow };
}

/**
 * 2-D convolution of x [n, c, h, w] with weight [o, c, k, k] (stride, zero padding, dilation 1), plus bias [o]
 * when given: out [n, o, oh, ow]. Each image is computed on one thread: with stride 1 straight from a
 * zero-padded copy of the image (no column matrix), otherwise as one matrix product weight·im2col(image).
 */
export function conv2d(
  x: Float32Array, weight: Float32Array, bias: Float32Array | null, out: Float32Array,
  n: number, c: number, h: number, w: number, o: number, k: number, stride: number, pad: number,
): void {
  const { l, kk, nx, no } = convShape("conv2d", n, c, h, w, o, k, stride, pad);
  check(x, nx, "x", "conv2d");
  check(weight, o * kk, "weight", "conv2d");
  check(bias, o, "bias", "conv2d");
  check(out, no, "out", "conv2d");
  const r = rt();
  if (!r || no === 0) {
    ref.conv2d(x, weight, bias, out, n, c, h, w, o, k, stride, pad);
    return;
  }
  const threads = n > 1 && n * o * l * kk >= PARALLEL_MACS ? r.threads() : 1;
  if (stride === 1) {
    // Straight from padded images: weights packed once here, taps' offsets tabulated.
    const work = r.kernels.convDirectWorkspaceBytes(c, h, w, o, k, pad);
    const packed = Math.ceil(o / 4) * 4 * kk * 4;
    r.scratch(r.need(x, nx) + r.need(weight, o * kk) + r.need(bias, o) + r.need(out, no) + packed + kk * 4 + work * threads + 192);
    const px = r.place(x, nx);
    const pw = r.place(weight, o * kk);
    const pb = bias ? r.place(bias, o) : 0;
    const po = r.place(out, no, false);
    const ap = r.reserve(packed);
    const offs = r.reserve(kk * 4);
    const pws = r.reserve(work * threads);
    const counter = r.reserve(4);
    r.f32[counter >> 2] = 0;
    r.kernels.convPackWeights(pw, ap, o, c, k, 0);
    r.kernels.convOffsets(offs, c, k, h + 2 * pad, w + 2 * pad, 0);
    r.run("convForward", [px, ap, offs, pb, po, n, c, h, w, o, k, pad, pws, counter], threads);
    r.back(out, po, no);
    return;
  }
  const work = r.kernels.convWorkspaceBytes(c, k, l);
  r.scratch(r.need(x, nx) + r.need(weight, o * kk) + r.need(bias, o) + r.need(out, no) + work * threads + 64);
  const px = r.place(x, nx);
  const pw = r.place(weight, o * kk);
  const pb = bias ? r.place(bias, o) : 0;
  const po = r.place(out, no, false);
  const pws = r.reserve(work * threads);
  const counter = r.reserve(4);
  r.f32[counter >> 2] = 0;
  r.run("convImages", [px, pw, pb, po, 0, 0, 0, 0, 0, n, c, h, w, o, k, stride, pad, pws, counter], threads);
  r.back(out, po, no);
}

/**
 * Backward of conv2d (without its bias): gw [o, c, k, k] += Σ_b g_b·im2col(x_b)ᵀ when gw is given, and
 * gx [n, c, h, w] += col2im(weightᵀ·g_b) when gx is given (with stride 1 the same sums, computed as the
 * convolution of g_b padded by k − 1 − pad with the flipped weights). The weight gradient is summed per fixed
 * run of images (in image order), then the runs are added in order, so the thread count never changes it.
 */
export function conv2dBackward(
  x: Float32Array, weight: Float32Array, g: Float32Array, gw: Float32Array | null, gx: Float32Array | null,
  n: number, c: number, h: number, w: number, o: number, k: number, stride: number, pad: number,
): void {
  const { l, kk, nx, no } = convShape("conv2dBackward", n, c, h, w, o, k, stride, pad);
  check(x, nx, "x", "conv2dBackward");
  check(weight, o * kk, "weight", "conv2dBackward");
  check(g, no, "g", "conv2dBackward");
  check(gw, o * kk, "gw", "conv2dBackward");
  check(gx, nx, "gx", "conv2dBackward");
  const groups = Math.min(n, CONV_GROUPS);
  const r = rt();
  if (!r || no === 0) {
    ref.conv2dBackward(x, weight, g, gw, gx, n, c, h, w, o, k, stride, pad, groups);
    return;
  }
  const threads = groups > 1 && n * o * l * kk >= PARALLEL_MACS ? r.threads() : 1;
  const partBytes = Math.ceil((o * kk * 4) / 64) * 64 * groups;
  if (stride === 1) {
    const work = r.kernels.convDirectWorkspaceBytes(c, h, w, o, k, pad);
    const taps = o * k * k;
    const packed = gx ? Math.ceil(c / 4) * 4 * taps * 4 : 0;
    r.scratch(r.need(x, nx) + r.need(weight, o * kk) + r.need(g, no) + r.need(gw, o * kk) + r.need(gx, nx) + partBytes + packed + (kk + taps) * 4 + work * threads + 320);
    const px = r.place(x, nx);
    const pw = r.place(weight, o * kk);
    const pg = r.place(g, no);
    const pgw = gw ? r.place(gw, o * kk) : 0;
    const pgx = gx ? r.place(gx, nx) : 0;
    const parts = gw ? r.reserve(partBytes) : 0;
    const apT = r.reserve(packed);
    const offsX = r.reserve(kk * 4);
    const offsG = r.reserve(taps * 4);
    const pws = r.reserve(work * threads);
    const counter = r.reserve(4);
    r.f32[counter >> 2] = 0;
    if (gx) {
      // g padded by k − 1 − pad: planes (oh + 2(k − 1 − pad)) × (ow + 2(k − 1 − pad)) = (h + k − 1) × (w + k − 1).
      r.kernels.convPackWeights(pw, apT, o, c, k, 1);
      r.kernels.convOffsets(offsG, o, k, h + k - 1, w + k - 1, 1);
    }
    r.kernels.convOffsets(offsX, c, k, h + 2 * pad, w + 2 * pad, 0);
    r.run("convBackward", [px, pg, apT, offsX, offsG, parts, pgx, groups, n, c, h, w, o, k, pad, pws, counter], threads);
    if (gw) {
      for (let q = 0; q < groups; q++) r.run("axpy", [1, parts + (q * partBytes) / groups, pgw, o * kk], 1);
      r.back(gw, pgw, o * kk);
    }
    if (gx) r.back(gx, pgx, nx);
    return;
  }
  const work = r.kernels.convWorkspaceBytes(c, k, l);
  r.scratch(r.need(x, nx) + r.need(weight, o * kk) + r.need(g, no) + r.need(gw, o * kk) + r.need(gx, nx) + partBytes + work * threads + 64);
  const px = r.place(x, nx);
  const pw = r.place(weight, o * kk);
  const pg = r.place(g, no);
  const pgw = gw ? r.place(gw, o * kk) : 0;
  const pgx = gx ? r.place(gx, nx) : 0;
  const parts = gw ? r.reserve(partBytes) : 0;
  const pws = r.reserve(work * threads);
  const counter = r.reserve(4);
  r.f32[counter >> 2] = 0;
  r.run("convImages", [px, pw, 0, 0, pg, parts, pgx, 1, groups, n, c, h, w, o, k, stride, pad, pws, counter], threads);
  if (gw) {
    for (let q = 0; q < groups; q++) r.run("axpy", [1, parts + (q * partBytes) / groups, pgw, o * kk], 1);
    r.back(gw, pgw, o * kk);
  }
  if (gx) r.back(gx, pgx, nx);
}

/**
 * out[r] (+ out[r] when accumulate) = Σ_j x[r, j] for x [rows × cols], in float32: four partial sums (lane q
 * takes j ≡ q mod 4 of the whole quads, in ascending order), combined as (s0 + s1) + (s2 + s3), then the
 * tail in order (a convolution's bias gradient). Bit-identical across backends and thread counts.
 */
export function rowSums(x: Float32Array, out: Float32Array, rows: number, cols: number, accumulate = false): void {
  dims("rowSums", rows, cols);
  check(x, rows * cols, "x", "rowSums");
  check(out, rows, "out", "rowSums");
  const r = rt();
  if (!r || rows * cols === 0) {
    ref.rowSums(x, out, rows, cols, accumulate);
    return;
  }
  r.scratch(r.need(x, rows * cols) + r.need(out, rows));
  const px = r.place(x, rows * cols);
  const po = r.place(out, rows);
  r.run("rowSums", [px, po, rows, cols, +accumulate], rows * cols >= PARALLEL_ELEMENTS ? r.threads() : 1);
  r.back(out, po, rows);
}

function poolDims(fn: string, planes: number, h: number, w: number, k: number, stride: number, pad: number): [number, number] {
  dims(fn, planes);
  const [oh, ow] = convDims(fn, 1, h, w, k, k, stride, pad);
  if (2 * pad > k) throw new RangeError(`${fn}: padding ${pad} exceeds half the kernel ${k}`);
  return [oh, ow];
}

/**
 * Max pooling of x [planes×h×w] into out [planes×oh×ow] over k×k windows (stride, padding −∞): each output is
 * its window's first maximum (a NaN only wins as the first value). Bit-identical across backends.
 */
export function maxPool(x: Float32Array, out: Float32Array, planes: number, h: number, w: number, k: number, stride: number, pad: number): void {
  const [oh, ow] = poolDims("maxPool", planes, h, w, k, stride, pad);
  const nx = planes * h * w, no = planes * oh * ow;
  check(x, nx, "x", "maxPool");
  check(out, no, "out", "maxPool");
  const r = rt();
  if (!r || no === 0) {
    ref.maxPool(x, out, null, null, planes, h, w, oh, ow, k, stride, pad);
    return;
  }
  r.scratch(r.need(x, nx) + r.need(out, no));
  const px = r.place(x, nx);
  const po = r.place(out, no, false);
  r.run("maxPool", [px, po, planes, h, w, oh, ow, k, stride, pad], nx >= PARALLEL_ELEMENTS ? r.threads() : 1);
  r.back(out, po, no);
}

/** Backward of maxPool: adds g[o] into dx at the position of output o's maximum in x (dx is not cleared). */
export function maxPoolBackward(x: Float32Array, g: Float32Array, dx: Float32Array, planes: number, h: number, w: number, k: number, stride: number, pad: number): void {
  const [oh, ow] = poolDims("maxPoolBackward", planes, h, w, k, stride, pad);
  const nx = planes * h * w, no = planes * oh * ow;
  check(x, nx, "x", "maxPoolBackward");
  check(g, no, "g", "maxPoolBackward");
  check(dx, nx, "dx", "maxPoolBackward");
  const r = rt();
  if (!r || no === 0) {
    ref.maxPool(x, null, g, dx, planes, h, w, oh, ow, k, stride, pad);
    return;
  }
  r.scratch(r.need(x, nx) + r.need(g, no) + r.need(dx, nx));
  const px = r.place(x, nx);
  const pg = r.place(g, no);
  const pd = r.place(dx, nx);
  r.run("maxPoolBackward", [px, pg, pd, planes, h, w, oh, ow, k, stride, pad], nx >= PARALLEL_ELEMENTS ? r.threads() : 1);
  r.back(dx, pd, nx);
}

function lstmDims(fn: string, batch: number, hidden: number, arrays: [Float32Array | undefined, number, string][]): void {
  dims(fn, batch, hidden);
  for (const [a, n, what] of arrays) if (a) check(a, n, what, fn);
}

/** Throws unless the arrays that go with a mask are given with it. */
function lstmPairs(fn: string, pairs: [Float32Array | undefined, Float32Array | undefined, string][]): void {
  for (const [mask, other, what] of pairs) if (mask && !other) throw new TypeError(`${fn}: ${what}`);
}

/**
 * Fused LSTM cell, PyTorch gate order (i, f, g, o): gates[batch×4H] holds each row's pre-activations
 * (i block, then f, g, o). Writes act = (σ(i), σ(f), tanh(g), σ(o)) (may alias gates), c = f·cPrev + i·g
 * and h = o·tanh(c). Every step is a float32 operation with the float32 exp of ./reference.ts (`expf`),
 * bit-identical across backends and thread counts. The optional masks (each [batch×hidden]) fuse the
 * recurrent regularizers: `g` multiplies g (recurrent dropout), zoneout `zc` writes cOut = cPrev where it is 1
 * (else c), zoneout `zh` puts hPrev in h where it is 1, and `v` writes hm = h·v (variational recurrent mask).
 */
export function lstmForward(
  gates: Float32Array,
  cPrev: Float32Array,
  c: Float32Array,
  h: Float32Array,
  act: Float32Array,
  batch: number,
  hidden: number,
  masks: LstmMasks = {},
): void {
  const n = batch * hidden;
  const { g: gm, zc, cOut, zh, hPrev, v, hm } = masks;
  lstmDims("lstmForward", batch, hidden, [[gates, 4 * n, "gates"], [cPrev, n, "cPrev"], [c, n, "c"], [h, n, "h"], [act, 4 * n, "act"],
    [gm, n, "g mask"], [zc, n, "zc"], [cOut, n, "cOut"], [zh, n, "zh"], [hPrev, n, "hPrev"], [v, n, "v"], [hm, n, "hm"]]);
  lstmPairs("lstmForward", [[zc, cOut, "zc needs cOut"], [zh, hPrev, "zh needs hPrev"], [v, hm, "v needs hm"]]);
  const r = rt();
  if (!r || n === 0 || hidden % 4 !== 0) {
    ref.lstmForward(gates, cPrev, c, h, act, batch, hidden, masks);
    return;
  }
  const opt = (a: Float32Array | undefined) => (a ? r.need(a, n) : 0);
  r.scratch(r.need(gates, 4 * n) + r.need(cPrev, n) + r.need(c, n) + r.need(h, n) + (act === gates ? 0 : r.need(act, 4 * n))
    + opt(gm) + opt(zc) + opt(cOut) + opt(zh) + opt(hPrev) + opt(v) + opt(hm));
  const pg = r.place(gates, 4 * n);
  const pp = r.place(cPrev, n);
  const pc = r.place(c, n, false);
  const ph = r.place(h, n, false);
  const pa = act === gates ? pg : r.place(act, 4 * n, false);
  const at = (a: Float32Array | undefined, copyIn = true) => (a ? r.place(a, n, copyIn) : 0);
  const pm = [at(gm), at(zc), at(cOut, false), at(zh), at(hPrev), at(v), at(hm, false)];
  r.run("lstmForward", [pg, pp, pc, ph, pa, ...pm, batch, hidden], n >= PARALLEL_COSTLY ? r.threads() : 1);
  r.back(c, pc, n);
  r.back(h, ph, n);
  r.back(act, pa, 4 * n);
  if (cOut) r.back(cOut, pm[2]!, n);
  if (hm) r.back(hm, pm[6]!, n);
}

/**
 * Backward of lstmForward: from act, cPrev, c, dh and dc (the gradients reaching its h and c outputs),
 * writes dGates (pre-activation gradients; may alias act) and dcPrev (may alias dc), in float32 steps,
 * bit-identical across backends and thread counts. With the forward's masks: `g`, `zc`, `zh` (then dhPrev
 * receives the part of dh that zoneout passes to hPrev) and `v` with dhm (the gradient of hm).
 */
export function lstmBackward(
  act: Float32Array,
  cPrev: Float32Array,
  c: Float32Array,
  dh: Float32Array,
  dc: Float32Array,
  dGates: Float32Array,
  dcPrev: Float32Array,
  batch: number,
  hidden: number,
  masks: LstmBackwardMasks = {},
): void {
  const n = batch * hidden;
  const { g: gm, zc, zh, dhPrev, v, dhm } = masks;
  lstmDims("lstmBackward", batch, hidden, [[act, 4 * n, "act"], [cPrev, n, "cPrev"], [c, n, "c"], [dh, n, "dh"], [dc, n, "dc"], [dGates, 4 * n, "dGates"], [dcPrev, n, "dcPrev"],
    [gm, n, "g mask"], [zc, n, "zc"], [zh, n, "zh"], [dhPrev, n, "dhPrev"], [v, n, "v"], [dhm, n, "dhm"]]);
  lstmPairs("lstmBackward", [[zh, dhPrev, "zh needs dhPrev"], [v, dhm, "v needs dhm"]]);
  const r = rt();
  if (!r || n === 0 || hidden % 4 !== 0) {
    ref.lstmBackward(act, cPrev, c, dh, dc, dGates, dcPrev, batch, hidden, masks);
    return;
  }
  const sameG = dGates === act, sameC = dcPrev === dc;
  const opt = (a: Float32Array | undefined) => (a ? r.need(a, n) : 0);
  r.scratch(r.need(act, 4 * n) + r.need(cPrev, n) + r.need(c, n) + r.need(dh, n) + r.need(dc, n) + (sameG ? 0 : r.need(dGates, 4 * n)) + (sameC ? 0 : r.need(dcPrev, n))
    + opt(gm) + opt(zc) + opt(zh) + opt(dhPrev) + opt(v) + opt(dhm));
  const pa = r.place(act, 4 * n);
  const pp = r.place(cPrev, n);
  const pc = r.place(c, n);
  const ph = r.place(dh, n);
  const pd = r.place(dc, n);
  const pg = sameG ? pa : r.place(dGates, 4 * n, false);
  const pcp = sameC ? pd : r.place(dcPrev, n, false);
  const at = (a: Float32Array | undefined, copyIn = true) => (a ? r.place(a, n, copyIn) : 0);
  const pm = [at(gm), at(zc), at(zh), at(dhPrev, false), at(v), at(dhm)];
  r.run("lstmBackward", [pa, pp, pc, ph, pd, pg, pcp, ...pm, batch, hidden], n >= PARALLEL_COSTLY ? r.threads() : 1);
  r.back(dGates, pg, 4 * n);
  r.back(dcPrev, pcp, n);
  if (dhPrev) r.back(dhPrev, pm[3]!, n);
}
