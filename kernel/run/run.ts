/**
 * The headless runner behind `dropout-lab run`: executes a notebook's code cells in order through a
 * spawned dropout-lab kernel over the real protocol, as a Jupyter front end would, and saves the outputs.
 */
import { dirname, resolve } from "node:path";
import { KernelClient } from "../client.js";
import {
  type CodeCell,
  injectParameters,
  joinSource,
  OutputCollector,
  readNotebook,
  writeNotebook,
} from "./notebook.js";

export interface RunOptions {
  /** Values injected after the `parameters` cell. */
  params?: Record<string, unknown>;
  /** Where to write the executed notebook; default: over the input. */
  output?: string;
  /** Longest a cell may go without sending any message, in ms (default: no limit). */
  cellTimeoutMs?: number;
  /** Progress lines: the kernel's start, each cell's outcome and time, the total (default: stderr). */
  log?: (line: string) => void;
  /** Receives the cells' stdout and stderr text as it arrives (default: kept in the notebook only). */
  logOutput?: (text: string) => void;
  /** Aborting it interrupts the kernel (SIGINT, the kernelspec's interrupt mode) and ends the run after the running cell. */
  signal?: AbortSignal;
}

export interface RunResult {
  path: string;
  output: string;
  cells: number;
  seconds: number;
  /** The first failing cell (0-based index among all cells) and its error, when one failed. */
  failure?: { cell: number; ename: string; evalue: string };
}

/** Runs one notebook; a failing cell stops the run (later cells keep no outputs) and is reported. */
export async function runNotebook(path: string, options: RunOptions = {}): Promise<RunResult> {
  const log = options.log ?? ((line: string) => void process.stderr.write(line + "\n"));
  const input = resolve(path);
  const output = resolve(options.output ?? path);
  const nb = readNotebook(input);
  injectParameters(nb, options.params ?? {});
  for (const cell of nb.cells) {
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  const started = Date.now();
  const client = await KernelClient.start({ cwd: dirname(input) });
  const result: RunResult = { path: input, output, cells: 0, seconds: 0 };
  const code = nb.cells.filter((c) => c.cell_type === "code" && joinSource(c.source).trim() !== "").length;
  const interrupt = () => void client.child.kill("SIGINT");
  options.signal?.addEventListener("abort", interrupt);
  /** Writes the notebook so far (after every cell, so that a run killed outright keeps its finished cells). */
  const save = () => {
    result.seconds = (Date.now() - started) / 1000;
    nb.metadata.dropout_lab = { ...(nb.metadata.dropout_lab as object), wall_seconds: result.seconds, params: options.params ?? {} };
    writeNotebook(output, nb);
  };
  const died = client.exit().then((status) => ({ ename: "KernelDied", evalue: `the kernel process ended (${status === null ? "killed by a signal" : `exit code ${status}`})` }));
  try {
    const info = await client.ready(30_000);
    log(`${path}: kernel ready in ${((Date.now() - started) / 1000).toFixed(1)} s; ${code} code cells`);
    nb.metadata.kernelspec = { name: "dropout-lab", display_name: "TypeScript (dropout-lab)", language: "typescript" };
    nb.metadata.language_info = info.content.language_info;
    for (const [index, cell] of nb.cells.entries()) {
      if (cell.cell_type !== "code" || joinSource(cell.source).trim() === "") continue;
      const cellStarted = Date.now();
      let failure = await runCell(client, cell, { timeoutMs: options.cellTimeoutMs, logOutput: options.logOutput, died });
      if (options.signal?.aborted) failure ??= { ename: "Interrupted", evalue: "the run was interrupted after this cell" };
      result.cells++;
      const head = `${path}: cell ${index} [${result.cells}/${code}]`;
      const seconds = ((Date.now() - cellStarted) / 1000).toFixed(1);
      if (failure) {
        result.failure = { cell: index, ...failure };
        log(`${head} failed after ${seconds} s: ${failure.ename}: ${failure.evalue}`);
        break;
      }
      log(`${head} ok in ${seconds} s`);
      save();
    }
  } finally {
    options.signal?.removeEventListener("abort", interrupt);
    await client.close();
    save();
  }
  log(`${path}: ${result.cells} cells in ${result.seconds.toFixed(1)} s${result.failure ? " (failed)" : ""} → ${output}`);
  return result;
}

/** A cell's failure: its error, a silence longer than the timeout, or the kernel's death. */
type Failure = { ename: string; evalue: string };

/** Runs one cell; its outputs are saved whatever the outcome. `died` settles when the kernel process ends. */
async function runCell(
  client: KernelClient,
  cell: CodeCell,
  { timeoutMs = 2 ** 31 - 1, logOutput, died }: { timeoutMs?: number; logOutput?: (text: string) => void; died: Promise<Failure> },
): Promise<Failure | undefined> {
  const start = new Date().toISOString();
  const id = await client.send("shell", "execute_request", {
    code: joinSource(cell.source),
    silent: false,
    store_history: true,
    user_expressions: {},
    allow_stdin: false,
    stop_on_error: true,
  });
  const collector = new OutputCollector();
  const replied = client.iopubUntilIdle(id, timeoutMs, (m) => {
    collector.add(m);
    if (logOutput && m.header.msg_type === "stream") logOutput(String(m.content.text));
  }).then(() => client.reply("shell", id, timeoutMs));
  replied.catch(() => {}); // after the kernel's death nobody waits for it
  // The only rejection of these waits is their timeout.
  const silent: Failure = { ename: "CellTimeout", evalue: `no message from the kernel for ${timeoutMs / 1000} s` };
  const reply = await Promise.race([replied, died]).catch(() => silent);
  cell.outputs = collector.saved();
  if (!("header" in reply)) return reply;
  cell.execution_count = (reply.content.execution_count as number | undefined) ?? null;
  cell.metadata.execution = { "shell.execute_request": start, "shell.execute_reply": new Date().toISOString() };
  if (reply.content.status === "ok") return undefined;
  return { ename: String(reply.content.ename ?? reply.content.status), evalue: String(reply.content.evalue ?? "") };
}
