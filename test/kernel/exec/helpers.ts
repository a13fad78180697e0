import { afterAll } from "vitest";
import { createExecutor, type Compiler, type ExecEvent, type ExecuteOutcome, type Executor } from "../../../kernel/exec/index.js";

/** Cells in plain JavaScript (imports written as `await __dropoutLabImport(...)`), for the runtime tests. */
export const javascript = (): Compiler => ({
  compile: (code) => ({ ok: true, js: code }),
  commit: () => undefined,
  complete: () => ({ matches: [], cursorStart: 0, cursorEnd: 0, metadata: {} }),
  inspect: () => ({ found: false, data: {} }),
  isComplete: () => ({ status: "unknown" }),
});

export interface CellRun {
  outcome: ExecuteOutcome;
  events: ExecEvent[];
  /** All stdout text, then all stderr text. */
  stdout: string;
  stderr: string;
}

let count = 0;

export async function run(
  executor: Executor,
  code: string,
  options: { allowStdin?: boolean; input?: (prompt: string, password: boolean) => Promise<string>; silent?: boolean } = {},
): Promise<CellRun> {
  const events: ExecEvent[] = [];
  const outcome = await executor.execute(code, {
    executionCount: ++count,
    silent: options.silent ?? false,
    storeHistory: true,
    allowStdin: options.allowStdin ?? false,
    onEvent: (event) => events.push(event),
    onInputRequest: options.input ?? (() => Promise.reject(new Error("no stdin in this test"))),
  });
  const text = (name: string) =>
    events.map((e) => (e.type === "stream" && e.name === name ? e.text : "")).join("");
  return { outcome, events, stdout: text("stdout"), stderr: text("stderr") };
}

/** An executor for JavaScript cells, started, and shut down after the file's tests. */
export async function startExecutor(cwd = process.cwd(), compiler = javascript): Promise<Executor> {
  const executor = createExecutor({ cwd, compiler });
  await executor.start();
  afterAll(() => executor.shutdown());
  return executor;
}

export function resultText(outcome: ExecuteOutcome): unknown {
  return outcome.status === "ok" ? outcome.result?.data["text/plain"] : `(${outcome.status})`;
}
