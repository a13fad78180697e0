/**
 * The compiler thread: one CellCompiler, serving the executor's requests in order. It warms up as it starts
 * (the lib and @types/node parsed, a first program checked), so the executor's thread is never blocked by
 * TypeScript, and after each commit it builds the next cell's program while the kernel is idle.
 */
import { parentPort, workerData } from "node:worker_threads";
import { CellCompiler, type CellCompilerOptions } from "./typescript.js";

export type CompilerMethod = "compile" | "commit" | "complete" | "inspect" | "isComplete" | "reset";

export interface CompilerRequest {
  id: number;
  method: CompilerMethod;
  args: unknown[];
}

export type CompilerReply = { id: number; value: unknown } | { id: number; error: string };

const port = parentPort!;
const options = workerData as CellCompilerOptions;
let compiler = new CellCompiler(options);

port.on("message", ({ id, method, args }: CompilerRequest) => {
  let reply: CompilerReply;
  try {
    if (method === "reset") compiler = new CellCompiler(options);
    const value = method === "reset" ? undefined : (compiler[method] as (...a: unknown[]) => unknown).apply(compiler, args);
    reply = { id, value };
  } catch (error) {
    reply = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
  if (method === "commit" || method === "reset") setImmediate(() => compiler.prepare());
});

// Cells that are checked and transpiled but never run: the lib and @types/node are parsed, and a program
// made from the previous one has been checked, before the first real cell.
for (const cell of ["const warm: number = 1 + 1;\nwarm", "const again = `${1 + 1}`;\nagain.length"]) compiler.compile(cell, "warm-up.ts");
compiler.prepare();
