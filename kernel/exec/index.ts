/**
 * The executor: cells are type-checked and transpiled in a compiler thread (typescript-thread.ts, which warms
 * up as the executor starts) and run in an evaluator thread (worker.ts) with V8's REPL mode. The compiler
 * thread hands a checked cell to the evaluator thread itself, through a port between them; a cell run again
 * whose script the compiler said stays valid goes from this thread to the evaluator without it. This thread is
 * blocked neither by TypeScript nor by user code; it interrupts the evaluator through the inspector's
 * NodeWorker domain, and replaces an evaluator that dies (heap exhausted, process.exit) with a fresh one,
 * reporting the cell as an "EvaluatorRestarted" error (the compiler then forgets the earlier cells too).
 *
 * Cells see these globals: display(value, { displayId, update, metadata }), clearOutput({ wait }),
 * html`...`, svg`...`, md`...`, input(prompt) and password(prompt) (async, through onInputRequest),
 * help(value) (a pager payload: ExecuteOutcome.payload = [{ source: "page", data, start: 0 }]),
 * comms.registerTarget(name, (comm, data, metadata) => ...) and comms.open(target, data, metadata)
 * (a Comm with send, close, onMsg, onClose), require (resolving from the notebook's folder), and
 * globalThis.__dropoutLabImport(spec), which the compiled `import` statements call.
 *
 * Cells are named `cell<executionCount>.ts` in stack traces and compiler messages. Output of a cell reaches
 * onEvent before execute() resolves; output while no cell runs goes to ExecutorOptions.onBackgroundEvent.
 * user_expressions are evaluated as JavaScript, without type-checking.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import type {
  CompleteReply,
  ErrorInfo,
  ExecEvent,
  ExecuteOptions,
  ExecuteOutcome,
  Executor,
  InspectReply,
  IsCompleteReply,
  MimeBundle,
} from "./types.js";
import type { CellDiagnostic, CompileResult } from "./typescript.js";
import type { CompilerData, CompilerMethod, CompilerReply, CompilerRequest, RunReply, RunRequest } from "./typescript-thread.js";
import type { EvaluatorData, FromWorker, ToWorker } from "./worker.js";
import { packageRoot } from "../root.js";

export type * from "./types.js";

type Awaitable<T> = T | Promise<T>;

/**
 * What the executor needs from the TypeScript side: by default CellCompiler (typescript.ts) in a thread of its
 * own (ThreadCompiler below).
 */
export interface Compiler {
  compile(code: string, cellName: string): Awaitable<CompileResult>;
  /** Records a cell that ran; the executor does not wait for it (a later call comes after it). */
  commit(code: string): Awaitable<void>;
  complete(code: string, cursorPos: number): Awaitable<CompleteReply>;
  inspect(code: string, cursorPos: number, detailLevel: number): Awaitable<InspectReply>;
  isComplete(code: string): Awaitable<IsCompleteReply>;
  /** Forgets every cell (the evaluator was replaced and its variables are gone). */
  reset?(): Awaitable<void>;
  /** Ends what the compiler started. */
  close?(): Awaitable<void>;
  /**
   * Compiles a cell and, when it compiles and has not been interrupted (see `interruptCell`), sends it to
   * the evaluator thread connected last (see `connect`) itself, which saves the executor's thread a hop.
   */
  compileAndRun?(code: string, cellName: string, request: RunRequest): Promise<RunReply>;
  /** Connects the compiler to a new evaluator thread (the other end of `port` goes to that thread). */
  connect?(port: MessagePort): void;
  /** Marks the cell with this id interrupted: `compileAndRun` then no longer sends it. */
  interruptCell?(id: number): void;
}

export interface ExecutorOptions {
  /** The notebook's folder: modules and relative paths resolve from here first. */
  cwd: string;
  /**
   * Output that happens while no cell runs (timers and rejections after a cell ended, comm handlers).
   * Without it, such output is held and delivered through the next cell's onEvent before its own output.
   */
  onBackgroundEvent?: (event: ExecEvent) => void;
  /** The evaluator's JavaScript heap limit in MiB (default: 75% of the machine's memory). */
  maxHeapMb?: number;
  /** Makes the compiler; defaults to the TypeScript CellCompiler in its own thread. */
  compiler?: (options: { cwd: string; kernelRoot: string }) => Compiler;
}

export function createExecutor(options: ExecutorOptions): Executor {
  return new WorkerExecutor(options);
}

const here = dirname(fileURLToPath(import.meta.url));

let threadsDir: string | undefined;

/**
 * The script of a thread (worker.js, typescript-thread.js) beside this file or, when running from the .ts
 * sources (as in tests), in a transpiled copy of this folder that finds packages in the kernel's node_modules.
 */
async function threadUrl(name: "worker" | "typescript-thread"): Promise<URL> {
  const built = join(here, `${name}.js`);
  if (existsSync(built)) return pathToFileURL(built);
  if (!threadsDir) {
    const ts = (await import("typescript")).default;
    const out = mkdtempSync(join(tmpdir(), "dropout-lab-threads-"));
    process.once("exit", () => rmSync(out, { recursive: true, force: true }));
    for (const file of readdirSync(here).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
      const { outputText } = ts.transpileModule(readFileSync(join(here, file), "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        fileName: file,
      });
      writeFileSync(join(out, file.replace(/\.ts$/, ".js")), outputText);
    }
    writeFileSync(join(out, "package.json"), '{ "type": "module" }');
    symlinkSync(join(packageRoot(), "node_modules"), join(out, "node_modules"));
    threadsDir = out;
  }
  return pathToFileURL(join(threadsDir, `${name}.js`));
}

/** How many reusable scripts ThreadCompiler keeps. */
const REUSABLE_LIMIT = 256;

/** CellCompiler in a thread of its own: its requests are answered in order, after its warm-up. */
class ThreadCompiler implements Compiler {
  #thread?: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  /** Shared with the thread: the id of the last cell interrupted. */
  readonly #interrupted = new Int32Array(new SharedArrayBuffer(4));
  /**
   * Scripts of cells the thread said stay valid until the next commit (see CompiledReuse): running such a
   * cell again needs no trip to the thread. Forgotten at each commit sent, at a reset and with the thread.
   */
  readonly #reusable = new Map<string, string>();

  /** `onSpawn` is called for each new thread (the first, and one replacing a thread that ended), to connect it. */
  constructor(
    private readonly url: URL,
    private readonly options: { cwd: string; kernelRoot: string },
    private readonly onSpawn: () => void,
  ) {
    this.#spawn();
  }

  /** A new thread; one that ends on its own (heap exhausted) fails its pending requests and is replaced at the next. */
  #spawn(): Worker {
    const thread = new Worker(this.url, {
      workerData: { options: this.options, interrupted: this.#interrupted } satisfies CompilerData,
      // A roomy young generation: each cell's program and checker are short-lived garbage.
      resourceLimits: { maxOldGenerationSizeMb: Math.floor((totalmem() / 2 ** 20) * 0.5), maxYoungGenerationSizeMb: 96 },
    });
    thread.on("message", (reply: CompilerReply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if ("error" in reply) pending?.reject(new Error(reply.error));
      else pending?.resolve(reply.value);
    });
    thread.on("exit", (code) => {
      if (this.#thread !== thread) return;
      this.#thread = undefined;
      for (const { reject } of this.#pending.values()) reject(new Error(`the compiler thread ended (exit code ${code})`));
      this.#pending.clear();
    });
    thread.on("error", () => undefined); // its exit follows
    this.#reusable.clear();
    this.#thread = thread;
    this.onSpawn();
    return thread;
  }

  #call<T>(method: CompilerMethod, args: unknown[], port?: MessagePort): Promise<T> {
    const thread = this.#thread ?? this.#spawn();
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      thread.postMessage({ id, method, args, port } satisfies CompilerRequest, port ? [port] : []);
    });
  }

  async compileAndRun(code: string, cellName: string, request: RunRequest): Promise<RunReply> {
    const js = this.#reusable.get(code);
    if (js !== undefined) return { ok: true, js, sent: false, reuse: { records: false, reusable: true } };
    const reply = await this.#call<RunReply>("run", [code, cellName, request]);
    if (reply.ok && reply.reuse?.reusable && !reply.reuse.records) {
      if (this.#reusable.size >= REUSABLE_LIMIT) this.#reusable.clear();
      this.#reusable.set(code, reply.js);
    }
    return reply;
  }
  connect(port: MessagePort): void {
    void this.#call("connect", [], port).catch(() => undefined); // a thread that ended is connected again when replaced
  }
  interruptCell(id: number): void {
    Atomics.store(this.#interrupted, 0, id);
  }

  compile(code: string, cellName: string): Promise<CompileResult> {
    return this.#call("compile", [code, cellName]);
  }
  commit(code: string): Promise<void> {
    this.#reusable.clear();
    return this.#call("commit", [code]);
  }
  complete(code: string, cursorPos: number): Promise<CompleteReply> {
    return this.#call("complete", [code, cursorPos]);
  }
  inspect(code: string, cursorPos: number, detailLevel: number): Promise<InspectReply> {
    return this.#call("inspect", [code, cursorPos, detailLevel]);
  }
  isComplete(code: string): Promise<IsCompleteReply> {
    return this.#call("isComplete", [code]);
  }
  reset(): Promise<void> {
    this.#reusable.clear();
    return this.#call("reset", []);
  }
  async close(): Promise<void> {
    const thread = this.#thread;
    this.#thread = undefined;
    await thread?.terminate();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CallFrame {
  callFrameId: string;
}

/**
 * An interrupt waits up to PAUSE_WAIT_MS for the worker to pause (one running JavaScript always does, but on a
 * loaded machine enabling the debugger alone can take half a second), steps for up to STEP_BUDGET_MS towards
 * code it may terminate, and then gives the worker STUCK_MS to end the cell before replacing it.
 */
const PAUSE_WAIT_MS = 5000;
const STEP_BUDGET_MS = 600;
const STUCK_MS = 1500;

interface Running {
  id: number;
  options: ExecuteOptions;
  resolve: (outcome: ExecuteOutcome) => void;
  interrupted: boolean;
  /** Sent to the evaluator (a cell the compiler thread sends is registered while it is being checked). */
  sent: boolean;
}

const BACKGROUND_LIMIT = 1000;

function compilerError(error: unknown): ExecuteOutcome {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { status: "error", ename: "CompilerError", evalue: String(error), traceback: message.split("\n") };
}

function typeScriptError(cellName: string, diagnostics: CellDiagnostic[]): ExecuteOutcome {
  const lines = diagnostics.map((d) => `${cellName}(${d.line},${d.column}): error TS${d.code}: ${d.message}`);
  return { status: "error", ename: "TypeScriptError", evalue: lines.join("\n"), traceback: lines };
}

/** A cell interrupted before it ran (the evaluator reports one interrupted while running the same way). */
const KEYBOARD_INTERRUPT: ExecuteOutcome = {
  status: "error",
  ename: "KeyboardInterrupt",
  evalue: "the cell was interrupted",
  traceback: ["KeyboardInterrupt: the cell was interrupted"],
};

class WorkerExecutor implements Executor {
  private readonly cwd: string;
  private readonly kernelRoot = packageRoot();
  private readonly session = new Session();
  private worker?: Worker;
  private workerSessionId?: string;
  private workerError?: Error;
  private ready?: Promise<void>;
  private compiler?: Compiler;
  private queue: Promise<unknown> = Promise.resolve();
  private running?: Running;
  /** The cell being type-checked: an interrupt then stops it before it runs. */
  private compiling?: { interrupted: boolean };
  private interrupting: Promise<void> = Promise.resolve();
  private readonly background: ExecEvent[] = [];
  private readonly replies = new Map<number, (value: unknown) => void>();
  private readonly inspectorReplies = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  private nextId = 1;
  private pausedWaiter?: (frames: CallFrame[]) => void;
  private shuttingDown = false;

  constructor(private readonly options: ExecutorOptions) {
    this.cwd = options.cwd;
  }

  start(): Promise<void> {
    this.ready ??= this.boot();
    return this.ready;
  }

  private async boot(): Promise<void> {
    const options = { cwd: this.cwd, kernelRoot: this.kernelRoot };
    this.compiler =
      this.options.compiler?.(options) ?? new ThreadCompiler(await threadUrl("typescript-thread"), options, () => this.connectCompiler());
    this.session.connect();
    // The session attaches to every thread of the process. Its workerId numbers threads per session, so the
    // evaluator is known by its title, "[worker <threadId>]"; other threads are left alone.
    this.session.on("NodeWorker.attachedToWorker", (message) => {
      const { sessionId, workerInfo } = message.params as { sessionId: string; workerInfo: { title: string } };
      if (this.worker && workerInfo.title.startsWith(`[worker ${this.worker.threadId}]`)) this.workerSessionId = sessionId;
      else this.session.post("NodeWorker.detach", { sessionId }, () => undefined);
    });
    this.session.on("NodeWorker.receivedMessageFromWorker", (message) => {
      const params = message.params as { sessionId: string; message: string };
      if (params.sessionId === this.workerSessionId) this.onInspectorMessage(JSON.parse(params.message));
    });
    await new Promise<void>((resolve, reject) =>
      this.session.post("NodeWorker.enable", { waitForDebuggerOnStart: false }, (error) => (error ? reject(error) : resolve())),
    );
    await this.spawn();
  }

  private async spawn(): Promise<void> {
    this.workerSessionId = undefined;
    this.workerError = undefined;
    const data: EvaluatorData = { cwd: this.cwd, kernelRoot: this.kernelRoot };
    const worker = new Worker(await threadUrl("worker"), {
      workerData: data,
      stdout: true,
      stderr: true,
      // With a limit, running out of heap ends the worker only (without one, it aborts the whole process).
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb ?? Math.floor((totalmem() / 2 ** 20) * 0.75) },
    });
    this.worker = worker;
    this.connectCompiler();
    await new Promise<void>((resolve, reject) => {
      worker.on("message", (message: FromWorker) => {
        if (message.type === "ready") resolve();
        else this.onWorkerMessage(message);
      });
      worker.on("error", (error) => {
        this.workerError = error;
        reject(error);
      });
      worker.on("exit", (code) => this.onExit(worker, code));
    });
    while (this.workerSessionId === undefined) await sleep(1);
  }

  /** Gives the compiler thread and the evaluator thread a port to each other (called for each new one of either). */
  private connectCompiler(): void {
    const compiler = this.compiler;
    const worker = this.worker;
    if (!compiler?.connect || !worker) return;
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ type: "compiler_port", port: port2 } satisfies ToWorker, [port2]);
    compiler.connect(port1);
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker || this.shuttingDown) return;
    const reason = this.workerError ? `${this.workerError.name}: ${this.workerError.message}` : `exit code ${code}`;
    for (const resolve of this.replies.values()) resolve(undefined);
    this.replies.clear();
    for (const settle of this.inspectorReplies.values()) settle({ error: "the evaluator thread ended" });
    this.inspectorReplies.clear();
    this.running?.resolve({
      status: "error",
      ename: "EvaluatorRestarted",
      evalue: `the evaluator thread ended (${reason}); a fresh one was started and earlier variables are gone`,
      traceback: [`EvaluatorRestarted: the evaluator thread ended (${reason})`, "A fresh one was started; earlier variables are gone."],
    });
    this.running = undefined;
    void Promise.resolve(this.compiler?.reset?.()).catch(() => undefined);
    this.ready = this.spawn();
  }

  private deliver(event: ExecEvent): void {
    if (this.running) this.running.options.onEvent(event);
    else if (this.options.onBackgroundEvent) this.options.onBackgroundEvent(event);
    else {
      const last = this.background[this.background.length - 1];
      if (event.type === "stream" && last?.type === "stream" && last.name === event.name) last.text += event.text;
      else if (this.background.length < BACKGROUND_LIMIT) this.background.push(event);
    }
  }

  private onWorkerMessage(message: FromWorker): void {
    switch (message.type) {
      case "events":
        for (const event of message.events) this.deliver(event);
        break;
      case "done":
        if (this.running?.id === message.id) {
          this.running.resolve(message.outcome);
          this.running = undefined;
        }
        break;
      case "input_request": {
        const running = this.running;
        if (!running) {
          this.post({ type: "input_reply", id: message.id, value: "" });
          break;
        }
        running.options.onInputRequest(message.prompt, message.password).then(
          (value) => this.post({ type: "input_reply", id: message.id, value }),
          () => this.post({ type: "input_reply", id: message.id, value: "" }),
        );
        break;
      }
      case "reply":
        this.replies.get(message.id)?.(message.value);
        this.replies.delete(message.id);
        break;
    }
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  /** Sends a request to the worker and waits for its reply. */
  private async request<T>(make: (id: number) => ToWorker): Promise<T> {
    await this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.replies.set(id, resolve as (value: unknown) => void);
      this.post(make(id));
    });
  }

  execute(code: string, options: ExecuteOptions): Promise<ExecuteOutcome> {
    const task = this.queue.then(() => this.runCell(code, options));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async runCell(code: string, options: ExecuteOptions): Promise<ExecuteOutcome> {
    await this.start();
    for (const event of this.background.splice(0)) options.onEvent(event);
    const cellName = `cell${options.executionCount}.ts`;
    if (this.compiler!.compileAndRun) return this.compileAndRun(this.compiler!.compileAndRun.bind(this.compiler), code, cellName, options);
    let compiled: CompileResult;
    const compiling = { interrupted: false };
    this.compiling = compiling;
    try {
      compiled = await this.compiler!.compile(code, cellName);
    } catch (error) {
      return compilerError(error);
    } finally {
      this.compiling = undefined;
    }
    if (compiling.interrupted) return KEYBOARD_INTERRUPT;
    if (!compiled.ok) return typeScriptError(cellName, compiled.diagnostics);
    const js = compiled.js;
    await this.interrupting;
    const id = this.nextId++;
    const outcome = await new Promise<ExecuteOutcome>((resolve) => {
      this.running = { id, options, resolve, interrupted: false, sent: true };
      this.post({ type: "run", id, js, cellName, allowStdin: options.allowStdin, wantResult: !options.silent });
    });
    if (outcome.status === "ok") this.commit(code, cellName);
    return outcome;
  }

  /**
   * A cell the compiler thread sends to the evaluator itself. It is registered as running before, since its
   * output and its end may arrive before the compiler's reply; an interrupt meanwhile is passed to the
   * compiler, and a cell that was sent all the same is then stopped as a running one.
   */
  private async compileAndRun(
    compileAndRun: NonNullable<Compiler["compileAndRun"]>,
    code: string,
    cellName: string,
    options: ExecuteOptions,
  ): Promise<ExecuteOutcome> {
    await this.interrupting;
    const request: RunRequest = { type: "run", id: this.nextId++, cellName, allowStdin: options.allowStdin, wantResult: !options.silent };
    let resolve!: (outcome: ExecuteOutcome) => void;
    const outcome = new Promise<ExecuteOutcome>((r) => (resolve = r));
    const running: Running = { id: request.id, options, resolve, interrupted: false, sent: false };
    this.running = running;
    let reply: RunReply;
    try {
      reply = await compileAndRun(code, cellName, request);
    } catch (error) {
      if (this.running === running) this.running = undefined;
      return compilerError(error);
    }
    // Unless it has ended already (its evaluator's "done", or its death, came first):
    if (this.running === running) {
      if (!reply.ok || (!reply.sent && running.interrupted)) {
        this.running = undefined;
        return reply.ok ? KEYBOARD_INTERRUPT : typeScriptError(cellName, reply.diagnostics);
      }
      running.sent = true;
      if (!reply.sent) this.post({ ...request, js: reply.js }); // no evaluator was connected to the compiler
      else if (running.interrupted) this.interrupting = this.stop(running).catch(() => undefined);
    }
    const result = await outcome;
    // A cell that leaves later cells nothing is not committed (its commit would change nothing).
    if (result.status === "ok" && reply.reuse?.records !== false) this.commit(code, cellName);
    return result;
  }

  /** Records the cell with the compiler without waiting: the compiler handles its next request after it. */
  private commit(code: string, cellName: string): void {
    const compiler = this.compiler!;
    void (async () => compiler.commit(code))().catch((error: unknown) => {
      process.stderr.write(`dropout-lab: the compiler could not record ${cellName}, later cells will not see it: ${String(error)}\n`);
    });
  }

  interrupt(): void {
    if (this.compiling) this.compiling.interrupted = true;
    const running = this.running;
    if (!running || running.interrupted) return;
    running.interrupted = true;
    if (!running.sent) return this.compiler?.interruptCell?.(running.id);
    this.interrupting = this.stop(running).catch(() => undefined);
  }

  /**
   * Stops the running cell. The worker is paused with Debugger.pause (Node's and the kernel's scripts are
   * blackboxed, so it stops in user code) and, where that is safe, the code is ended with
   * Runtime.terminateExecution: a synchronous loop inside the cell's evaluation (called from the worker's
   * message handler), or an awaiting loop's continuation run as a microtask. Code called from a timer, immediate or nextTick callback is stepped
   * out of to the next user code that runs, since ending it there would abort the process. Then the worker rejects the
   * cell's pending evaluation, which ends the cell in every case; a worker that cannot even do that (a
   * synchronous loop inside a timer) is replaced by a fresh one.
   */
  private async stop(running: Running): Promise<void> {
    const kernelScripts = pathToFileURL(dirname(fileURLToPath(await threadUrl("worker")))).href;
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    await this.inspector("Debugger.enable");
    try {
      await this.inspector("Debugger.setBlackboxPatterns", { patterns: ["^node:", `^${escape(kernelScripts)}`] });
      const nextPause = async (method: "Debugger.pause" | "Debugger.stepOut", budgetMs: number) => {
        const paused = new Promise<CallFrame[]>((resolve) => (this.pausedWaiter = resolve));
        await this.inspector(method);
        const frames = await Promise.race([paused, sleep(budgetMs).then(() => undefined)]);
        this.pausedWaiter = undefined;
        return frames;
      };
      let frames = await nextPause("Debugger.pause", PAUSE_WAIT_MS);
      const stepping = Date.now();
      while (frames && this.running === running) {
        if (await this.terminable(frames)) {
          void this.inspector("Runtime.terminateExecution").catch(() => undefined);
          await this.inspector("Debugger.resume");
          break;
        }
        const left = STEP_BUDGET_MS - (Date.now() - stepping);
        frames = left > 0 ? await nextPause("Debugger.stepOut", left) : undefined;
      }
    } finally {
      await this.inspector("Debugger.disable");
    }
    const ending = Date.now();
    while (this.running === running) {
      if (Date.now() - ending > STUCK_MS) {
        this.workerError = new Error("it did not respond to the interrupt");
        await this.worker?.terminate();
        break;
      }
      this.post({ type: "interrupt", id: running.id });
      await sleep(50);
    }
  }

  /** Asks the paused worker whether its current code can be terminated (see `terminable` in worker.ts). */
  private async terminable(frames: CallFrame[]): Promise<boolean> {
    const answer = (await this.inspector("Debugger.evaluateOnCallFrame", {
      callFrameId: frames[0]!.callFrameId,
      expression: `globalThis[Symbol.for("dropout-lab.terminable")]()`,
      returnByValue: true,
    })) as { result: { value?: unknown } };
    return answer.result.value === true;
  }

  private inspector(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inspectorReplies.set(id, (message) => (message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result)));
      this.session.post(
        "NodeWorker.sendMessageToWorker",
        { sessionId: this.workerSessionId, message: JSON.stringify({ id, method, params }) },
        (error) => error && reject(error),
      );
    });
  }

  private onInspectorMessage(message: {
    id?: number;
    method?: string;
    params?: { callFrames?: CallFrame[] };
    result?: unknown;
    error?: unknown;
  }): void {
    if (message.id !== undefined) {
      this.inspectorReplies.get(message.id)?.(message);
      this.inspectorReplies.delete(message.id);
    } else if (message.method === "Debugger.paused") {
      const frames = message.params?.callFrames ?? [];
      if (this.pausedWaiter) this.pausedWaiter(frames);
      else void this.inspector("Debugger.resume").catch(() => undefined); // a late pause; disabling may have resumed it
    }
  }

  async evaluateExpressions(expressions: Record<string, string>) {
    await this.queue;
    return this.request<Record<string, { status: "ok"; data: MimeBundle; metadata: Record<string, unknown> } | ({ status: "error" } & ErrorInfo)>>(
      (id) => ({ type: "expressions", id, expressions }),
    );
  }

  async complete(code: string, cursorPos: number): Promise<CompleteReply> {
    await this.start();
    return this.compiler!.complete(code, cursorPos);
  }

  async inspect(code: string, cursorPos: number, detailLevel: number): Promise<InspectReply> {
    await this.start();
    return this.compiler!.inspect(code, cursorPos, detailLevel);
  }

  async isComplete(code: string): Promise<IsCompleteReply> {
    await this.start();
    return this.compiler!.isComplete(code);
  }

  async commOpen(commId: string, targetName: string, data: unknown, metadata: Record<string, unknown>): Promise<boolean> {
    return (await this.request<boolean | undefined>((id) => ({ type: "comm_open", id, commId, targetName, data, metadata }))) ?? false;
  }

  async commMsg(commId: string, data: unknown, metadata: Record<string, unknown>): Promise<void> {
    await this.request((id) => ({ type: "comm_msg", id, commId, data, metadata }));
  }

  async commClose(commId: string, data: unknown, metadata: Record<string, unknown>): Promise<void> {
    await this.request((id) => ({ type: "comm_close", id, commId, data, metadata }));
  }

  async commInfo(targetName?: string): Promise<Record<string, { target_name: string }>> {
    return (await this.request<Record<string, { target_name: string }> | undefined>((id) => ({ type: "comm_info", id, targetName }))) ?? {};
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const resolve of this.replies.values()) resolve(undefined);
    this.running?.resolve({ status: "aborted" });
    await Promise.all([this.worker?.terminate(), this.compiler?.close?.()]);
    this.session.disconnect();
  }
}
