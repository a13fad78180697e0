#!/usr/bin/env node
/** The `dropout-lab` command line: install the kernelspec, run the kernel, run notebooks headlessly. */
import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { readConnectionFile } from "./connection.js";
import type { InstallTarget } from "./spec.js";

const USAGE = `usage:
  dropout-lab install [--user | --sys-prefix | --prefix DIR]   write the kernelspec "dropout-lab" (default --user)
  dropout-lab kernel -f CONNECTION_FILE                          run the kernel
  dropout-lab run NOTEBOOK... [-p NAME=VALUE]... [-o OUT_DIR] [--timeout SECONDS] [--log-output] [--html]
                                  execute notebooks headlessly through the kernel (in place without -o),
                                  a progress line per cell on stderr; --timeout fails a cell that sends
                                  nothing for that long; --log-output also copies the cells' stdout and
                                  stderr there as they run; --html also writes each as a self-contained
                                  HTML page (needs nbconvert)`;

class UsageError extends Error {}

function parseInstall(args: string[]): InstallTarget {
  const targets: InstallTarget[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--user") targets.push({ kind: "user" });
    else if (a === "--sys-prefix") targets.push({ kind: "sys-prefix" });
    else if (a === "--prefix" || a.startsWith("--prefix=")) {
      const dir = a === "--prefix" ? args[++i] : a.slice("--prefix=".length);
      if (!dir) throw new UsageError("--prefix needs a directory");
      targets.push({ kind: "prefix", dir });
    } else throw new UsageError(`install: unknown option ${a}`);
  }
  if (targets.length > 1) throw new UsageError("install: give at most one of --user, --sys-prefix, --prefix DIR");
  return targets[0] ?? { kind: "user" };
}

function parseKernel(args: string[]): string {
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-f" || a === "--connection-file") file = args[++i];
    else if (a.startsWith("--connection-file=")) file = a.slice("--connection-file=".length);
    else throw new UsageError(`kernel: unknown option ${a}`);
  }
  if (!file) throw new UsageError("kernel: -f CONNECTION_FILE is required");
  return file;
}

interface RunArgs {
  notebooks: string[];
  params: string[];
  outDir?: string;
  timeoutMs?: number;
  logOutput?: boolean;
  html?: boolean;
}

function parseRun(args: string[]): RunArgs {
  const run: RunArgs = { notebooks: [], params: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`run: ${a} needs a value`);
      return v;
    };
    if (a === "-p" || a === "--parameter") run.params.push(value());
    else if (a === "-o" || a === "--output-dir") run.outDir = value();
    else if (a === "--html") run.html = true;
    else if (a === "--log-output") run.logOutput = true;
    else if (a === "--timeout") {
      const seconds = Number(value());
      if (!(seconds > 0)) throw new UsageError("run: --timeout takes a positive number of seconds");
      run.timeoutMs = seconds * 1000;
    } else if (a.startsWith("-")) throw new UsageError(`run: unknown option ${a}`);
    else run.notebooks.push(a);
  }
  if (run.notebooks.length === 0) throw new UsageError("run: name at least one notebook");
  return run;
}

async function runNotebooks(args: RunArgs): Promise<void> {
  const { runNotebook } = await import("./run/run.js");
  const { parseParameters } = await import("./run/notebook.js");
  const params = parseParameters(args.params);
  if (args.outDir) mkdirSync(args.outDir, { recursive: true });
  const failed: string[] = [];
  // Ctrl-C interrupts the running cell and saves the notebook so far; a second one quits at once.
  const stop = new AbortController();
  process.on("SIGINT", () => (stop.signal.aborted ? process.exit(130) : stop.abort()));
  const logOutput = args.logOutput ? (text: string) => void process.stderr.write(text) : undefined;
  for (const nb of args.notebooks) {
    const output = args.outDir ? join(args.outDir, basename(nb)) : undefined;
    const result = await runNotebook(nb, { params, output, cellTimeoutMs: args.timeoutMs, logOutput, signal: stop.signal });
    if (args.html) console.error(`${nb}: HTML → ${(await import("./run/html.js")).notebookToHtml(result.output)}`);
    if (result.failure) failed.push(`${nb} (cell ${result.failure.cell}: ${result.failure.ename}: ${result.failure.evalue})`);
    if (stop.signal.aborted) {
      console.error(`dropout-lab: interrupted${failed.length > 0 ? `; failed: ${failed.join("; ")}` : ""}`);
      process.exit(130);
    }
  }
  if (failed.length > 0) throw new Error(`failed: ${failed.join("; ")}`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (rest.includes("-h") || rest.includes("--help")) {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case "install": {
      const { installKernelspec } = await import("./spec.js");
      const dir = installKernelspec(parseInstall(rest));
      console.log(`dropout-lab: installed kernelspec in ${dir}`);
      return;
    }
    case "kernel": {
      const file = parseKernel(rest);
      const info = readConnectionFile(file);
      const { runKernel } = await import("./main.js"); // sockets and executor load only for a kernel
      return runKernel(info, file);
    }
    case "run":
      return runNotebooks(parseRun(rest));
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return;
    default:
      throw new UsageError(`unknown command ${command ?? "(none)"}`);
  }
}

main(process.argv.slice(2)).catch((e: Error) => {
  console.error(`dropout-lab: ${e.message}`);
  if (e instanceof UsageError) console.error(USAGE);
  process.exit(e instanceof UsageError ? 2 : 1);
});
