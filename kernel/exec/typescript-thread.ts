/**
 * The compiler thread: one CellCompiler, serving the executor's requests in order. It warms up as it starts
 * (the lib and @types/node parsed, a first program checked), so the executor's thread is never blocked by
 * TypeScript, and after each commit it builds the next cell's program and checker while the kernel is idle
 * (a cell that imports nothing new is then checked in place, in that checker).
 *
 * A cell to run ("run") goes from here straight to the evaluator thread, through the port the executor
 * connects ("connect"), unless the executor has marked it interrupted meanwhile (in the shared `interrupted`
 * flag: the id of the cell); the reply says whether it was sent.
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import type { CompiledReuse, CompileResult } from "./typescript.js";
import { CellCompiler, type CellCompilerOptions } from "./typescript.js";
import type { ToWorker } from "./worker.js";

export type CompilerMethod = "compile" | "run" | "connect" | "commit" | "complete" | "inspect" | "isComplete" | "reset";

export interface CompilerRequest {
  id: number;
  method: CompilerMethod;
  args: unknown[];
  /** With "connect": the port to the evaluator thread. */
  port?: MessagePort;
}

export type CompilerReply = { id: number; value: unknown } | { id: number; error: string };

export interface CompilerData {
  options: CellCompilerOptions;
  /** Int32Array over a SharedArrayBuffer: [id of the last cell the executor interrupted]. */
  interrupted: Int32Array;
}

/** A cell to run, as the evaluator thread takes it, less its script. */
export type RunRequest = Omit<Extract<ToWorker, { type: "run" }>, "js">;

/** What "run" answers: the compile result, whether the script went to the evaluator, and how it may be reused. */
export type RunReply = CompileResult & { sent: boolean; reuse?: CompiledReuse };

const port = parentPort!;
const { options, interrupted } = workerData as CompilerData;
let compiler = new CellCompiler(options);
let evaluator: MessagePort | undefined;

function run(code: string, cellName: string, request: RunRequest): RunReply {
  const result = compiler.compile(code, cellName);
  if (!result.ok) return { ...result, sent: false };
  const reuse = compiler.compiledReuse(code);
  if (!evaluator || Atomics.load(interrupted, 0) === request.id) return { ...result, sent: false, reuse };
  evaluator.postMessage({ ...request, js: result.js } satisfies ToWorker);
  return { ...result, sent: true, reuse };
}

port.on("message", ({ id, method, args, port: connected }: CompilerRequest) => {
  let reply: CompilerReply;
  try {
    let value: unknown;
    if (method === "reset") compiler = new CellCompiler(options);
    else if (method === "connect") {
      evaluator?.close();
      evaluator = connected;
    } else if (method === "run") value = run(...(args as [string, string, RunRequest]));
    else value = (compiler[method] as (...a: unknown[]) => unknown).apply(compiler, args);
    reply = { id, value };
  } catch (error) {
    reply = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
  if (method === "commit" || method === "reset") setImmediate(() => compiler.prepare());
});

// Cells that are checked and transpiled but never run: the lib and @types/node are parsed, a cell has been
// checked in place, and a program made from the previous one has been checked, before the first real cell.
for (const cell of ["const warm: number = 1 + 1;\nwarm", "const again = `${1 + 1}`;\nagain.length"]) compiler.compile(cell, "warm-up.ts");
compiler.prepare();
