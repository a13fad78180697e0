/**
 * The evaluator process. The kernel (process.ts) forks this script with an IPC channel; it runs the
 * WorkerExecutor (the compiler on this thread, cells on the evaluator thread) and answers the kernel's
 * requests. Whatever kills this process (a fatal heap exhaustion, a native crash, a signal) leaves the
 * kernel alive: the kernel reports the cell and forks a fresh host.
 *
 * SIGINT is ignored here: a front end that signals the kernel's whole process group reaches the kernel,
 * which forwards the interrupt, so it is applied once. On SIGTERM (the kernel's shutdown) or the kernel's
 * death (the channel closes) the executor is shut down and the processes cells started are ended.
 */
import { endChildren } from "../children.js";
import { createExecutor } from "./index.js";
import type { ExecEvent, ExecuteOptions, Executor } from "./types.js";

/** What the kernel passes as the host's only argument (JSON). */
export interface HostData {
  cwd: string;
  maxHeapMb?: number;
}

/** Executor methods that are plain request → reply calls. */
export type HostMethod = "evaluateExpressions" | "complete" | "inspect" | "isComplete" | "commOpen" | "commMsg" | "commClose" | "commInfo";

/** Kernel → host. */
export type ToHost =
  | ({ type: "execute"; id: number; code: string } & Pick<ExecuteOptions, "executionCount" | "silent" | "storeHistory" | "allowStdin">)
  | { type: "input_reply"; id: number; value?: string; error?: string }
  | { type: "call"; id: number; method: HostMethod; args: unknown[] }
  | { type: "interrupt"; id: number };

/** Host → kernel, in the order things happened (one channel). `events` without a cell id are background output. */
export type FromHost =
  | { type: "ready" }
  | { type: "events"; id?: number; events: ExecEvent[] }
  | { type: "input_request"; id: number; cell: number; prompt: string; password: boolean }
  | { type: "done"; id: number; outcome: Awaited<ReturnType<Executor["execute"]>> }
  | { type: "reply"; id: number; value?: unknown; error?: string };

/** How often an interrupt is applied again while its cell has not started running (e.g. still queued). */
const INTERRUPT_RETRY_MS = 20;

const send = (message: FromHost): void => void process.send!(message);

// Events are sent in batches: the evaluator delivers its own batches synchronously, so one microtask
// gathers them; anything else sent flushes them first, which keeps the order.
let batch: { id?: number; events: ExecEvent[] } | undefined;
function flush(): void {
  if (batch) send({ type: "events", ...batch });
  batch = undefined;
}
function emit(id: number | undefined, event: ExecEvent): void {
  if (batch && batch.id !== id) flush();
  if (!batch) {
    batch = { id, events: [] };
    queueMicrotask(flush);
  }
  batch.events.push(event);
}
function post(message: FromHost): void {
  flush();
  send(message);
}

const data = JSON.parse(process.argv[2] ?? "{}") as HostData;
const executor = createExecutor({ cwd: data.cwd, maxHeapMb: data.maxHeapMb, onBackgroundEvent: (event) => emit(undefined, event) });
/** Cells sent but not finished. */
const outstanding = new Set<number>();
const inputs = new Map<number, { resolve: (value: string) => void; reject: (error: Error) => void }>();
let nextInput = 1;

let stopping = false;
async function stop(): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.race([executor.shutdown(), new Promise((r) => setTimeout(r, 1000))]);
    await endChildren();
  }
  process.exit(0);
}

function execute(message: Extract<ToHost, { type: "execute" }>): void {
  const { id, code, ...options } = message;
  outstanding.add(id);
  executor
    .execute(code, {
      ...options,
      onEvent: (event) => emit(id, event),
      onInputRequest: (prompt, password) =>
        new Promise<string>((resolve, reject) => {
          const input = nextInput++;
          inputs.set(input, { resolve, reject });
          post({ type: "input_request", id: input, cell: id, prompt, password });
        }),
    })
    .then(
      (outcome) => outcome,
      (error: unknown) => ({ status: "error" as const, ename: "ExecutorError", evalue: String(error), traceback: [String(error)] }),
    )
    .then((outcome) => {
      outstanding.delete(id);
      post({ type: "done", id, outcome });
    });
}

/** Interrupts cell `id` now, and again until it has ended (an interrupt before it runs would be lost). */
function interrupt(id: number): void {
  if (!outstanding.has(id)) return;
  executor.interrupt();
  setTimeout(() => interrupt(id), INTERRUPT_RETRY_MS);
}

async function call(id: number, method: HostMethod, args: unknown[]): Promise<void> {
  try {
    const value = await (executor[method] as (...a: unknown[]) => Promise<unknown>).apply(executor, args);
    post({ type: "reply", id, value });
  } catch (error) {
    post({ type: "reply", id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
}

process.on("message", (message: ToHost) => {
  switch (message.type) {
    case "execute":
      return execute(message);
    case "input_reply": {
      const waiting = inputs.get(message.id);
      inputs.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message.value ?? "");
      return;
    }
    case "call":
      return void call(message.id, message.method, message.args);
    case "interrupt":
      return interrupt(message.id);
  }
});
process.on("SIGINT", () => {});
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());

executor.start().then(
  () => post({ type: "ready" }),
  (error: unknown) => {
    process.stderr.write(`dropout-lab: the evaluator failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
