/**
 * The WebAssembly side of the backend: loading build/simd.wasm or build/relaxed.wasm, the one shared
 * memory with its allocator, and the worker pool that runs shares of a kernel on the same memory.
 *
 * Memory layout: the module's static data from byte 4096, then the heap from the next 64 KiB boundary.
 * Each pool gets its own control block from the heap, so workers of a pool being shut down can never
 * pick up work meant for its successor. The heap hands out blocks in power-of-two size classes
 * (free lists, never coalesced); it backs `allocate` and the scratch region into which kernels copy
 * operands that live outside the memory. Memory grows only when a request does not fit, so a training loop
 * with steady shapes stops growing after its first step.
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";

export type WasmBackend = "simd" | "relaxed";

/** The parts of the WebAssembly JS API used here (tsconfig's ES lib does not declare WebAssembly). */
export interface WasmModule {
  readonly __brand?: "WebAssembly.Module";
}
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (desc: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: WasmModule, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Exports of the AssemblyScript module (src/backend/assembly/index.ts); addresses are byte offsets. */
export interface Kernels {
  heapBase(): number;
  gemmWorkspaceBytes(): number;
  gemmPackedABytes(m: number, k: number): number;
  gemmPackA(...args: number[]): void;
  gemm(...args: number[]): void;
  sparseCount(a: number, n: number, limit: number): number;
  sparseIndexBytes(m: number, k: number): number;
  sparsePack(...args: number[]): void;
  sparseWorkspaceBytes(): number;
  sparseGemm(...args: number[]): void;
  dropout(...args: number[]): void;
  dropoutApply(...args: number[]): void;
  zero(...args: number[]): void;
  relu(...args: number[]): void;
  reluBackward(...args: number[]): void;
  binary(...args: number[]): void;
  binaryRow(...args: number[]): void;
  sumRows(...args: number[]): void;
  axpy(...args: number[]): void;
  sgdMomentum(...args: number[]): void;
  im2col(...args: number[]): void;
  col2im(...args: number[]): void;
  convImages(...args: number[]): void;
  convWorkspaceBytes(c: number, k: number, l: number): number;
  convPackWeights(weight: number, dst: number, o: number, c: number, k: number, flip: number): void;
  convOffsets(dst: number, c: number, k: number, hp: number, wp: number, flip: number): void;
  convDirectWorkspaceBytes(c: number, h: number, w: number, o: number, k: number, pad: number): number;
  convForward(...args: number[]): void;
  convBackward(...args: number[]): void;
  rowSums(...args: number[]): void;
  maxPool(...args: number[]): void;
  maxPoolBackward(...args: number[]): void;
  lstmForward(...args: number[]): void;
  lstmBackward(...args: number[]): void;
}

/**
 * Kernels a pool can split; each takes (…arguments, tid, nt) and handles share tid of nt. Shares are disjoint
 * and any nt gives the same results, so most kernels are cut into more shares than threads, which the threads
 * claim in turn: a thread that starts late (a busy machine, a sleeping worker's wake-up) finds the shares
 * done, and nobody waits for it. The kernels of SELF_CLAIMING split among the threads themselves, with a
 * workspace per thread: those run one share per thread.
 */
export const PARALLEL_OPS = [
  "gemm",
  "sparseGemm",
  "sparsePack",
  "gemmPackA",
  "dropout",
  "relu",
  "reluBackward",
  "binary",
  "binaryRow",
  "sumRows",
  "axpy",
  "sgdMomentum",
  "im2col",
  "col2im",
  "convImages",
  "convForward",
  "convBackward",
  "rowSums",
  "maxPool",
  "maxPoolBackward",
  "lstmForward",
  "lstmBackward",
  "dropoutApply",
  "zero",
] as const;
export type ParallelOp = (typeof PARALLEL_OPS)[number];
const SELF_CLAIMING: ReadonlySet<ParallelOp> = new Set(["gemm", "sparseGemm", "convImages", "convForward", "convBackward"]);
/** Shares per thread of the other kernels. */
const SHARES_PER_THREAD = 4;

const PAGE = 65536;
const MAX_PAGES = 65536;
const MAX_ARGS = 24;
// Control block (Int32 indices), then the arguments as float64 from byte 64 of the block, then one join slot
// (Int32) per thread. DONE counts the workers that finished their part of the current call; SHARES is its
// number of shares to claim (0: one per thread, by thread number) and CLAIM the next share to take.
const GEN = 0;
const DONE = 1;
const OP = 2;
const NARGS = 3;
const NT = 4;
const FAILED = 5;
const READY = 6;
const SHARES = 7;
const CLAIM = 8;
const ARGS_BYTE = 64;
const SLOTS_BYTE = ARGS_BYTE + MAX_ARGS * 8;
const STOP = -1;
/** Milliseconds the calling thread spins for the workers of a call before it sleeps. */
const AWAIT_SPIN_MS = 0.2;
// Join slot values for call generation g: open (the worker may take its share), taken (it did), closed (the
// calling thread ran the share itself, since the worker had not started).
const open = (g: number): number => (g & 0x3fffffff) * 2;
const taken = (g: number): number => open(g) + 1;
const CLOSED = -1;

let relaxedFlagSet = false;

/** Directory holding simd.wasm and relaxed.wasm, from src/backend or dist/src/backend. */
function buildDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    const dir = join(here, up, "build");
    if (existsSync(join(dir, "simd.wasm"))) return dir;
  }
  return null;
}

/**
 * The compiled modules this runtime supports, best first. Relaxed SIMD needs V8's
 * `--experimental-wasm-relaxed-simd` on Node 20 (Node >= 22 has it on), and Node refuses that flag in
 * NODE_OPTIONS. So: validate relaxed.wasm itself (the exact code to run); if V8 rejects it, set the flag
 * with v8.setFlagsFromString, which takes effect for later compiles in this process and its worker threads
 * (V8 flags are per process), and validate again. If it still fails, "simd" is the best backend.
 */
export function availableModules(): Map<WasmBackend, WasmModule> {
  const found = new Map<WasmBackend, WasmModule>();
  const dir = buildDir();
  if (!dir) return found;
  const relaxed = readFileSync(join(dir, "relaxed.wasm"));
  if (!WA.validate(relaxed) && !relaxedFlagSet) {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
    relaxedFlagSet = true;
  }
  if (WA.validate(relaxed)) found.set("relaxed", new WA.Module(relaxed));
  const simd = readFileSync(join(dir, "simd.wasm"));
  if (WA.validate(simd)) found.set("simd", new WA.Module(simd));
  return found;
}

// The worker (an ES module from a data: URL, so it loads the same way whatever the parent's flags): instantiate
// the module over the shared memory, count up READY, then wait for generations of the control block. For each,
// take part by turning its join slot from open to taken (unless the calling thread closed it first), run
// share \`tid\` of the requested kernel or claim shares until none is left, and count up DONE.
const WORKER_SOURCE = `
import { workerData } from "node:worker_threads";
const { module, memory, control, tid, ops } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, control, 16);
const args = new Float64Array(memory.buffer, control + ${ARGS_BYTE}, ${MAX_ARGS});
const slots = new Int32Array(memory.buffer, control + ${SLOTS_BYTE}, tid + 1);
Atomics.add(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let seen = 0;
for (;;) {
  for (let spin = 0; Atomics.load(ctl, ${GEN}) === seen; spin++) {
    if (spin > 4000) Atomics.wait(ctl, ${GEN}, seen);
  }
  seen = Atomics.load(ctl, ${GEN});
  if (ctl[${OP}] === ${STOP}) break;
  const open = (seen & 0x3fffffff) * 2;
  if (Atomics.compareExchange(slots, tid, open, open + 1) !== open) continue;
  try {
    const kernel = kernels[ops[ctl[${OP}]]];
    const a = Array.from(args.subarray(0, ctl[${NARGS}]));
    const shares = ctl[${SHARES}];
    if (shares === 0) kernel(...a, tid, ctl[${NT}]);
    else for (let s = Atomics.add(ctl, ${CLAIM}, 1); s < shares; s = Atomics.add(ctl, ${CLAIM}, 1)) kernel(...a, s, shares);
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

/** One instantiated backend: memory, heap, scratch region and pool. */
export class Runtime {
  readonly memory: WasmMemory;
  readonly kernels: Kernels;
  /** Float32 view of the whole memory, renewed when it grows. */
  f32: Float32Array;
  /** Byte view of the whole memory, renewed when it grows. */
  private u8: Uint8Array;
  private readonly buffers = new Set<ArrayBufferLike>();
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private readonly blockSize = new Map<number, number>();
  private scratchBase = 0;
  private scratchSize = 0;
  private scratchUsed = 0;
  private workers: Worker[] = [];
  private ready = false;
  private nt = 1;
  private ctl: Int32Array;
  private args: Float64Array;
  private slots: Int32Array;
  /** Generation and thread count of the last call split over the pool. */
  private gen = 0;
  private callThreads = 0;
  /** Workers that took a share of the last call. */
  private taken = 0;
  private readonly registry = new FinalizationRegistry<number>((addr) => this.release(addr));
  private readonly owned = new WeakSet<Float32Array>();

  constructor(
    readonly name: WasmBackend,
    private readonly module: WasmModule,
    threads: number,
  ) {
    this.memory = new WA.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
    this.kernels = new WA.Instance(module, { env: { memory: this.memory } }).exports as unknown as Kernels;
    this.top = Math.ceil(this.kernels.heapBase() / PAGE) * PAGE;
    this.f32 = new Float32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
    this.buffers.add(this.memory.buffer);
    this.ctl = new Int32Array(0);
    this.args = new Float64Array(0);
    this.slots = new Int32Array(0);
    this.setThreads(threads);
  }

  /** Whether an array's storage is this memory, so kernels can use it in place. */
  resident(a: ArrayBufferView): boolean {
    return this.buffers.has(a.buffer);
  }

  /** A heap block of at least `bytes` bytes (64-byte aligned); grows the memory when needed. */
  private take(bytes: number): number {
    const size = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
    const list = this.freeLists.get(size);
    let addr = list?.pop();
    if (addr === undefined) {
      addr = this.top;
      const end = addr + size;
      if (end > MAX_PAGES * PAGE) throw new RangeError(`backend memory exhausted: ${bytes} more bytes requested`);
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        this.memory.grow(Math.ceil((end - have) / PAGE));
        this.f32 = new Float32Array(this.memory.buffer);
        this.u8 = new Uint8Array(this.memory.buffer);
        this.buffers.add(this.memory.buffer);
      }
      this.top = end;
    }
    this.blockSize.set(addr, size);
    return addr;
  }

  private release(addr: number): void {
    const size = this.blockSize.get(addr)!;
    this.blockSize.delete(addr);
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(addr);
  }

  /**
   * A Float32Array of n elements in this memory (zero-filled unless `zero` is false), returned to the heap when
   * collected, or (with `collect` false) only by `free` or after `collect`.
   */
  allocate(n: number, zero = true, collect = true): Float32Array {
    const addr = this.take(n * 4);
    // The kernel's bulk fill: a typed array's fill over shared memory is several times slower.
    if (zero) this.kernels.zero(addr, n, 0, 1);
    const a = new Float32Array(this.memory.buffer, addr, n);
    if (collect) this.registry.register(a, addr, a);
    this.owned.add(a);
    return a;
  }

  /** Returns the block of an array from `allocate` to the heap when the array is collected. */
  collect(a: Float32Array): void {
    if (this.owned.has(a)) this.registry.register(a, a.byteOffset, a);
  }

  /** Returns the block of an array from `allocate` to the heap now; false if it is not such an array. */
  free(a: Float32Array): boolean {
    if (!this.owned.delete(a)) return false;
    this.registry.unregister(a);
    this.release(a.byteOffset);
    return true;
  }

  /** Starts a kernel call needing up to `bytes` bytes of scratch; earlier scratch contents are dropped. */
  scratch(bytes: number): void {
    if (bytes > this.scratchSize) {
      if (this.scratchSize > 0) this.release(this.scratchBase);
      this.scratchSize = Math.max(bytes, 2 * this.scratchSize, 1 << 20);
      this.scratchBase = this.take(this.scratchSize);
    }
    this.scratchUsed = 0;
  }

  /** Bytes reserved in the scratch region, 64-byte aligned. */
  reserve(bytes: number): number {
    const addr = this.scratchBase + this.scratchUsed;
    this.scratchUsed += Math.ceil(bytes / 64) * 64;
    if (this.scratchUsed > this.scratchSize) throw new Error("backend: scratch reservation exceeds its request");
    return addr;
  }

  /** Scratch bytes an operand of n elements needs when it must be copied in. */
  need(a: Float32Array | Uint8Array | null, n: number): number {
    return a === null || this.resident(a) ? 0 : Math.ceil((n * a.BYTES_PER_ELEMENT) / 64) * 64;
  }

  /** Address of an operand of n elements: in place when resident, else copied into scratch (when `copyIn`). */
  place(a: Float32Array | Uint8Array, n: number, copyIn = true): number {
    if (this.resident(a)) return a.byteOffset;
    const addr = this.reserve(n * a.BYTES_PER_ELEMENT);
    if (copyIn) {
      if (a instanceof Uint8Array) this.u8.set(n === a.length ? a : a.subarray(0, n), addr);
      else this.f32.set(n === a.length ? a : a.subarray(0, n), addr >> 2);
    }
    return addr;
  }

  /** Copies n elements at addr back into a, unless a is resident (then the kernel wrote it in place). */
  back(a: Float32Array | Uint8Array, addr: number, n: number): void {
    if (this.resident(a)) return;
    if (a instanceof Uint8Array) a.set(this.u8.subarray(addr, addr + n));
    else a.set(this.f32.subarray(addr >> 2, (addr >> 2) + n));
  }

  threads(): number {
    return this.nt;
  }

  /**
   * Runs op over `threads` threads (capped by the pool size): this one and the workers. A self-claiming kernel
   * runs share 0 here and the others on the workers; a share whose worker has not started when share 0 is
   * done runs here too (a worker waiting to be scheduled on a busy machine would otherwise hold up the call).
   * Any other kernel is cut into SHARES_PER_THREAD shares per thread, which this thread and the workers claim
   * until none is left. Each share is computed the same wherever it runs.
   */
  run(op: ParallelOp, args: number[], threads = this.nt): void {
    const nt = Math.min(threads, this.nt);
    if (nt <= 1) {
      this.kernels[op](...args, 0, 1);
      return;
    }
    if (args.length > MAX_ARGS) throw new Error(`backend: too many kernel arguments for ${op}`);
    const ctl = this.ctl;
    if (!this.ready) this.awaitWorkers();
    // A caller interrupted while waiting (e.g. the kernel's Runtime.terminateExecution) can leave workers
    // finishing its shares; they must be done before the control block is reused.
    this.close(false);
    this.args.set(args);
    ctl[OP] = PARALLEL_OPS.indexOf(op);
    ctl[NARGS] = args.length;
    ctl[NT] = nt;
    const shares = SELF_CLAIMING.has(op) ? 0 : SHARES_PER_THREAD * nt;
    ctl[SHARES] = shares;
    ctl[CLAIM] = 0;
    ctl[FAILED] = 0;
    Atomics.store(ctl, DONE, 0);
    const gen = (this.gen + 1) | 0;
    for (let tid = 1; tid < nt; tid++) Atomics.store(this.slots, tid, open(gen));
    this.gen = gen;
    this.callThreads = nt;
    Atomics.store(ctl, GEN, gen);
    Atomics.notify(ctl, GEN);
    const kernel = this.kernels[op];
    if (shares === 0) {
      kernel(...args, 0, nt);
      for (const tid of this.close(true)) kernel(...args, tid, nt);
    } else {
      for (let s = Atomics.add(ctl, CLAIM, 1); s < shares; s = Atomics.add(ctl, CLAIM, 1)) kernel(...args, s, shares);
      this.close(true);
    }
    this.awaitDone();
    if (ctl[FAILED]) throw new Error(`backend: a worker failed in ${op}`);
  }

  /**
   * Closes the join slots of the last call that no worker has taken and returns their shares (when `claim`);
   * counts the taken ones for `awaitDone` and, without `claim`, waits for them.
   */
  private close(claim: boolean): number[] {
    const unclaimed: number[] = [];
    let taken_ = 0;
    for (let tid = 1; tid < this.callThreads; tid++) {
      const v = Atomics.compareExchange(this.slots, tid, open(this.gen), CLOSED);
      if (v === open(this.gen)) unclaimed.push(tid);
      else if (v === taken(this.gen)) taken_++;
    }
    this.taken = taken_;
    if (!claim) this.awaitDone();
    return unclaimed;
  }

  /**
   * Spins, then sleeps, until every worker that took part in the last call has finished. A worker is then
   * running a share, which takes microseconds to a few milliseconds, and waking from a sleep can take tens of
   * microseconds, so the spin lasts up to AWAIT_SPIN_MS.
   */
  private awaitDone(): void {
    let start = 0;
    for (let spin = 0; ; spin++) {
      const d = Atomics.load(this.ctl, DONE);
      if (d >= this.taken) return;
      if (spin === 1024) start = performance.now();
      else if (spin > 1024 && (spin & 1023) === 0 && performance.now() - start > AWAIT_SPIN_MS) Atomics.wait(this.ctl, DONE, d);
    }
  }

  /**
   * Blocks until every worker has instantiated the module (once per pool). A worker that cannot start
   * would otherwise leave the caller waiting forever, so after a generous limit this gives up with an error.
   */
  private awaitWorkers(): void {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = Atomics.load(this.ctl, READY);
      if (ready === this.nt - 1) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.shutdown();
        throw new Error(`backend: only ${ready} of ${this.workers.length} worker threads started within 30 s`);
      }
      Atomics.wait(this.ctl, READY, ready, left);
    }
    this.ready = true;
  }

  /** Replaces the pool by one with n threads in all (n - 1 workers; 1 means the calling thread only). */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`thread count must be a positive integer, got ${n}`);
    this.shutdown();
    if (n === 1) return;
    const control = this.take(SLOTS_BYTE + 4 * n);
    new Int32Array(this.memory.buffer, control, (SLOTS_BYTE >> 2) + n).fill(0);
    this.ctl = new Int32Array(this.memory.buffer, control, 16);
    this.args = new Float64Array(this.memory.buffer, control + ARGS_BYTE, MAX_ARGS);
    this.slots = new Int32Array(this.memory.buffer, control + SLOTS_BYTE, n);
    this.gen = 0;
    this.callThreads = 0;
    this.taken = 0;
    this.ready = false;
    for (let tid = 1; tid < n; tid++) {
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`), {
        workerData: { module: this.module, memory: this.memory, control, tid, ops: PARALLEL_OPS },
      });
      worker.unref();
      this.workers.push(worker);
    }
    this.nt = n;
  }

  /** Stops the workers (they leave their wait loop and exit); the runtime then runs single-threaded. */
  shutdown(): void {
    if (this.workers.length === 0) return;
    this.ctl[OP] = STOP;
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) void w.terminate();
    this.workers = [];
    this.nt = 1;
  }
}
