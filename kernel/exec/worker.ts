/**
 * The evaluator thread. Runs cells with V8's REPL mode through this thread's own inspector session, so
 * `const x` can be declared again in a later cell, top-level await works and code runs at full speed.
 * Everything a cell prints or displays goes to the main thread through one ordered, batched channel.
 */
import { AsyncResource, executionAsyncResource } from "node:async_hooks";
import { Console } from "node:console";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { Session } from "node:inspector";
import { createRequire, isBuiltin } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { html, md, safeInspect, svg, toMimeBundle } from "./display.js";
import type { ErrorInfo, ExecEvent, ExecuteOutcome } from "./types.js";

export interface EvaluatorData {
  cwd: string;
  kernelRoot: string;
}

/** Messages from the main thread. */
export type ToWorker =
  | { type: "run"; id: number; js: string; cellName: string; allowStdin: boolean; wantResult: boolean }
  | { type: "interrupt"; id: number }
  | { type: "input_reply"; id: number; value: string }
  | { type: "expressions"; id: number; expressions: Record<string, string> }
  | { type: "comm_open"; id: number; commId: string; targetName: string; data: unknown; metadata: Record<string, unknown> }
  | { type: "comm_msg"; id: number; commId: string; data: unknown; metadata: Record<string, unknown> }
  | { type: "comm_close"; id: number; commId: string; data: unknown; metadata: Record<string, unknown> }
  | { type: "comm_info"; id: number; targetName?: string }
  /** The port the compiler thread sends cells ("run") through, replacing any earlier one. */
  | { type: "compiler_port"; port: MessagePort };

/** Messages to the main thread, all through the same port so their order is kept. */
export type FromWorker =
  | { type: "ready" }
  | { type: "events"; events: ExecEvent[] }
  | { type: "done"; id: number; outcome: ExecuteOutcome }
  | { type: "input_request"; id: number; prompt: string; password: boolean }
  | { type: "reply"; id: number; value: unknown };

const port = parentPort!;
const { cwd, kernelRoot } = workerData as EvaluatorData;
const send = (message: FromWorker) => port.postMessage(message);
const global = globalThis as Record<PropertyKey, unknown>;

// ---------------------------------------------------------------------------------------------------------
// The output channel: events are merged (adjacent writes to one stream become one event) and sent when the
// batch is big or old enough, on a short timer, and always before a cell's "done".

const FLUSH_MS = 20;
const FLUSH_CHARS = 1 << 16;
let pending: ExecEvent[] = [];
let pendingChars = 0;
let lastFlush = performance.now();
let flushTimer: NodeJS.Timeout | undefined;

function flush(): void {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = undefined;
  lastFlush = performance.now();
  if (pending.length === 0) return;
  const events = pending;
  pending = [];
  pendingChars = 0;
  send({ type: "events", events });
}

function emit(event: ExecEvent): void {
  const last = pending[pending.length - 1];
  if (event.type === "stream" && last?.type === "stream" && last.name === event.name) last.text += event.text;
  else pending.push(event);
  pendingChars += event.type === "stream" ? event.text.length : 1024;
  if (pendingChars >= FLUSH_CHARS || performance.now() - lastFlush >= FLUSH_MS) flush();
  else flushTimer ??= setTimeout(flush, FLUSH_MS);
}

const write = (name: "stdout" | "stderr", text: string) => {
  if (text.length > 0) emit({ type: "stream", name, text });
};

/** Values that cross to the front end must be JSON. */
function jsonData<T>(value: T, what: string): T {
  if (value === undefined) return value;
  try {
    return JSON.parse(JSON.stringify(value)) as T;
  } catch (error) {
    throw new TypeError(`${what} must be JSON-serialisable: ${String(error)}`);
  }
}

function redirectStream(stream: NodeJS.WriteStream, name: "stdout" | "stderr"): void {
  stream.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString();
    write(name, text);
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") queueMicrotask(() => done());
    return true;
  }) as typeof stream.write;
}
redirectStream(process.stdout, "stdout");
redirectStream(process.stderr, "stderr");
const sink = (name: "stdout" | "stderr") =>
  new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      write(name, chunk.toString());
      done();
    },
  });
const notebookConsole = new Console({ stdout: sink("stdout"), stderr: sink("stderr"), colorMode: false });
for (const [key, value] of Object.entries(notebookConsole)) {
  if (typeof value === "function") (console as unknown as Record<string, unknown>)[key] = value;
}

// ---------------------------------------------------------------------------------------------------------
// Errors: any thrown value becomes {ename, evalue, traceback} with the kernel's own frames removed.

const thisFile = import.meta.url;

function attempt<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}

function isInternalFrame(line: string): boolean {
  return line.includes("node:internal") || line.includes("node:inspector") || line.includes(thisFile);
}

function errorInfo(thrown: unknown): ErrorInfo {
  const stack = attempt(() => (thrown as { stack?: unknown }).stack);
  if (thrown instanceof Error || (thrown !== null && typeof thrown === "object" && typeof stack === "string")) {
    const ename = attempt(() => String((thrown as Error).name)) ?? "Error";
    const evalue = attempt(() => String((thrown as Error).message)) ?? "";
    const lines = typeof stack === "string" ? stack.split("\n") : [];
    const evaluator = lines.findIndex((line) => line.includes("node:inspector"));
    const frames = (evaluator < 0 ? lines : lines.slice(0, evaluator))
      .filter((line) => /^\s+at /.test(line) && !isInternalFrame(line))
      .map((line) => `    ${line.trim()}`);
    return { ename, evalue, traceback: [evalue ? `${ename}: ${evalue}` : ename, ...frames] };
  }
  const text = safeInspect(thrown);
  return { ename: "Uncaught", evalue: text, traceback: [`Uncaught ${text}`] };
}

const errorOutcome = (thrown: unknown): ExecuteOutcome => ({ status: "error", ...errorInfo(thrown) });

/** A syntax error has no stack frame of its own: point at the place V8 reports. */
function syntaxErrorAt(outcome: ExecuteOutcome, thrown: unknown, where: string): ExecuteOutcome {
  if (outcome.status !== "error" || !(thrown instanceof SyntaxError) || outcome.traceback.length > 1) return outcome;
  return { ...outcome, traceback: [...outcome.traceback, `    at ${where}`] };
}

const keyboardInterrupt: ExecuteOutcome = {
  status: "error",
  ename: "KeyboardInterrupt",
  evalue: "the cell was interrupted",
  traceback: ["KeyboardInterrupt: the cell was interrupted"],
};

process.on("uncaughtException", (error) => {
  write("stderr", `Uncaught exception in a callback:\n${errorInfo(error).traceback.join("\n")}\n`);
});
process.on("unhandledRejection", (reason) => {
  write("stderr", `Unhandled promise rejection:\n${errorInfo(reason).traceback.join("\n")}\n`);
});

// ---------------------------------------------------------------------------------------------------------
// Evaluation through the inspector, REPL mode.

const session = new Session();
session.connect();

interface RemoteObject {
  type: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
}
interface EvaluateResult {
  result: RemoteObject;
  exceptionDetails?: { exception?: RemoteObject; text: string; lineNumber: number; columnNumber: number };
}

function post<T>(method: string, params: object): Promise<T> {
  return new Promise((resolvePost, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolvePost(result as T))),
  );
}

/**
 * Whether the code running now can be ended with Runtime.terminateExecution without breaking Node: not
 * when a timer, immediate, nextTick or AsyncResource callback is on the stack, since those push async
 * context from JavaScript and pop it after the callback (a skipped pop aborts the process).
 */
function terminable(): boolean {
  const resource: unknown = executionAsyncResource();
  const kind = (resource as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  return !(resource instanceof AsyncResource) && kind !== "Timeout" && kind !== "Immediate" && kind !== "TickObject";
}
Object.defineProperty(globalThis, Symbol.for("dropout-lab.terminable"), { value: terminable });

const OBJECT_GROUP = "dropout-lab";
const STASH = Symbol.for("dropout-lab.stash");

/** The JavaScript value behind an inspector RemoteObject of this thread. */
async function localValue(remote: RemoteObject): Promise<unknown> {
  if (remote.objectId !== undefined) {
    await post("Runtime.callFunctionOn", {
      objectId: remote.objectId,
      functionDeclaration: `function () { "use strict"; globalThis[Symbol.for("dropout-lab.stash")] = this; }`,
    });
    const value = global[STASH];
    delete global[STASH];
    return value;
  }
  if (remote.unserializableValue !== undefined) {
    const text = remote.unserializableValue;
    return text.endsWith("n") ? BigInt(text.slice(0, -1)) : Number(text);
  }
  return remote.type === "undefined" ? undefined : remote.value;
}

function isTermination(error: unknown): boolean {
  return error instanceof Error && error.message.includes("Execution was terminated");
}

/** Evaluates `expression` as a REPL script: the completion value, or the thrown value. */
async function evaluate(
  expression: string,
  race?: Promise<never>,
): Promise<{ value: unknown } | { thrown: unknown; where: string }> {
  const evaluation = post<EvaluateResult>("Runtime.evaluate", {
    expression,
    replMode: true,
    awaitPromise: true,
    generatePreview: false,
    objectGroup: OBJECT_GROUP,
  });
  const result = await (race ? Promise.race([evaluation, race]) : evaluation);
  // A primitive result (and no exception) hands out no object: there is no group to release.
  const handedOut = result.result.objectId !== undefined || result.exceptionDetails !== undefined;
  try {
    const details = result.exceptionDetails;
    if (details) {
      const thrown = details.exception ? await localValue(details.exception) : new Error(details.text);
      return { thrown, where: `${details.lineNumber + 1}:${details.columnNumber + 1}` };
    }
    return { value: await localValue(result.result) };
  } finally {
    if (handedOut) await post("Runtime.releaseObjectGroup", { objectGroup: OBJECT_GROUP });
  }
}

const INTERRUPTED = Symbol("interrupted");
let current: { id: number; allowStdin: boolean; interrupt: () => void; payload: unknown[] } | undefined;

async function run(message: Extract<ToWorker, { type: "run" }>): Promise<void> {
  let interrupt!: () => void;
  const interrupted = new Promise<never>((_, reject) => (interrupt = () => reject(INTERRUPTED)));
  const cell = { id: message.id, allowStdin: message.allowStdin, interrupt, payload: [] as unknown[] };
  current = cell;
  let outcome: ExecuteOutcome;
  try {
    const evaluated = await evaluate(`${message.js}\n//# sourceURL=${message.cellName}`, interrupted);
    if ("thrown" in evaluated) outcome = syntaxErrorAt(errorOutcome(evaluated.thrown), evaluated.thrown, `${message.cellName}:${evaluated.where}`);
    else if (evaluated.value === undefined || !message.wantResult) outcome = { status: "ok" };
    else outcome = { status: "ok", result: { data: jsonData(toMimeBundle(evaluated.value), "a mime bundle"), metadata: {} } };
  } catch (error) {
    outcome = error === INTERRUPTED || isTermination(error) ? keyboardInterrupt : errorOutcome(error);
  }
  if (current === cell) current = undefined;
  if (outcome.status === "ok" && cell.payload.length > 0) outcome = { ...outcome, payload: cell.payload };
  flush();
  send({ type: "done", id: message.id, outcome });
}

async function evaluateExpressions(expressions: Record<string, string>) {
  const results: Record<string, unknown> = {};
  for (const [name, expression] of Object.entries(expressions)) {
    try {
      const evaluated = await evaluate(expression);
      results[name] =
        "thrown" in evaluated
          ? errorOutcome(evaluated.thrown)
          : { status: "ok", data: jsonData(toMimeBundle(evaluated.value), "a mime bundle"), metadata: {} };
    } catch (error) {
      results[name] = errorOutcome(error);
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------
// Module loading: bare specifiers from the notebook's folder first, then from the kernel's install.

type Exports = string | null | Exports[] | { [key: string]: Exports };
const CONDITIONS = ["import", "node", "default", "require"];

function exportTarget(entry: Exports): string | undefined {
  if (typeof entry === "string") return entry;
  if (Array.isArray(entry)) return entry.map(exportTarget).find((t) => t !== undefined);
  if (entry === null) return undefined;
  for (const condition of CONDITIONS) {
    if (condition in entry) {
      const target = exportTarget(entry[condition]!);
      if (target !== undefined) return target;
    }
  }
  return undefined;
}

function splitSpecifier(spec: string): { name: string; subpath: string } {
  const parts = spec.split("/");
  const count = spec.startsWith("@") ? 2 : 1;
  return { name: parts.slice(0, count).join("/"), subpath: ["."].concat(parts.slice(count)).join("/") };
}

/** ESM resolution for packages whose "exports" offer no condition `require` understands. */
function resolveExportsFrom(base: string, spec: string): string | undefined {
  const { name, subpath } = splitSpecifier(spec);
  for (let dir = base; ; dir = dirname(dir)) {
    for (const pkgDir of [join(dir, "node_modules", name), dir]) {
      const manifest = join(pkgDir, "package.json");
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; exports?: Exports; module?: string; main?: string };
      if (pkgDir === dir && pkg.name !== name) continue;
      let target: string | undefined;
      if (pkg.exports !== undefined) {
        const exp = pkg.exports;
        const entry =
          typeof exp === "object" && exp !== null && !Array.isArray(exp) && Object.keys(exp).some((k) => k.startsWith("."))
            ? exp[subpath]
            : subpath === "."
              ? exp
              : undefined;
        target = entry === undefined ? undefined : exportTarget(entry);
      } else if (subpath === ".") target = pkg.module ?? pkg.main ?? "index.js";
      else target = subpath;
      if (target !== undefined) return join(pkgDir, target);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function resolveBare(base: string, spec: string): string | undefined {
  try {
    return createRequire(join(base, "__notebook__.js")).resolve(spec);
  } catch {
    return resolveExportsFrom(base, spec);
  }
}

const notebookRequire = createRequire(join(cwd, "__notebook__.js"));

/** The module object for `import ... from spec` in a cell. */
async function importModule(spec: string): Promise<unknown> {
  if (isBuiltin(spec)) return import(spec.startsWith("node:") ? spec : `node:${spec}`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !isAbsolute(spec)) return import(spec);
  if (spec.startsWith(".") || isAbsolute(spec)) {
    const full = resolve(cwd, spec);
    const file = existsSync(full) && statSync(full).isFile() ? full : notebookRequire.resolve(full);
    return import(pathToFileURL(file).href);
  }
  for (const base of [cwd, kernelRoot]) {
    const file = resolveBare(base, spec);
    if (file !== undefined) return import(pathToFileURL(file).href);
  }
  throw new Error(`Cannot find module '${spec}' from ${cwd} or from the kernel's install (${kernelRoot})`);
}

// ---------------------------------------------------------------------------------------------------------
// Notebook globals: display, clearOutput, html/svg/md, input/password, help, comms, require.

interface DisplayOptions {
  displayId?: string;
  update?: boolean;
  metadata?: Record<string, unknown>;
}

function display(value: unknown, options: DisplayOptions = {}): void {
  if (options.update && options.displayId === undefined) throw new TypeError("display(): update needs a displayId");
  emit({
    type: "display",
    data: jsonData(toMimeBundle(value), "a mime bundle"),
    metadata: jsonData(options.metadata ?? {}, "display metadata"),
    ...(options.displayId !== undefined ? { displayId: String(options.displayId) } : {}),
    ...(options.update ? { update: true } : {}),
  });
}

function clearOutput(options: { wait?: boolean } = {}): void {
  emit({ type: "clear_output", wait: options.wait ?? false });
}

let inputCount = 0;
const inputWaiters = new Map<number, (value: string) => void>();

function requestInput(prompt: string, password: boolean): Promise<string> {
  if (!current) return Promise.reject(new Error("input() can only be used while a cell runs"));
  if (!current.allowStdin) return Promise.reject(new Error("input() is not available: this front end does not allow stdin"));
  const id = ++inputCount;
  flush();
  send({ type: "input_request", id, prompt: String(prompt), password });
  return new Promise((resolveInput) => inputWaiters.set(id, resolveInput));
}

/** Shows text about a value in the front end's pager (execute_reply payload, source "page"). */
function help(value: unknown): void {
  if (!current) throw new Error("help() can only be used while a cell runs");
  const text = typeof value === "function" ? `${value.toString()}\n\n${safeInspect(value)}` : safeInspect(value);
  current.payload.push({ source: "page", data: { "text/plain": text }, start: 0 });
}

type CommHandler = (data: unknown, metadata: Record<string, unknown>) => void;

/** One end of a comm between the notebook and the front end. */
class Comm {
  private readonly msgHandlers: CommHandler[] = [];
  private readonly closeHandlers: CommHandler[] = [];
  closed = false;

  constructor(
    readonly commId: string,
    readonly targetName: string,
  ) {}

  send(data: unknown = {}, metadata: Record<string, unknown> = {}): void {
    if (this.closed) throw new Error(`comm ${this.commId} is closed`);
    emit({ type: "comm_msg", commId: this.commId, data: jsonData(data, "comm data"), metadata: jsonData(metadata, "comm metadata") });
  }

  close(data: unknown = {}, metadata: Record<string, unknown> = {}): void {
    if (this.closed) return;
    this.closed = true;
    openComms.delete(this.commId);
    emit({ type: "comm_close", commId: this.commId, data: jsonData(data, "comm data"), metadata: jsonData(metadata, "comm metadata") });
  }

  onMsg(handler: CommHandler): void {
    this.msgHandlers.push(handler);
  }

  onClose(handler: CommHandler): void {
    this.closeHandlers.push(handler);
  }

  /** Called for messages from the front end. */
  deliver(kind: "msg" | "close", data: unknown, metadata: Record<string, unknown>): void {
    if (kind === "close") {
      this.closed = true;
      openComms.delete(this.commId);
    }
    for (const handler of kind === "msg" ? this.msgHandlers : this.closeHandlers) {
      try {
        handler(data, metadata);
      } catch (error) {
        write("stderr", `Error in a comm handler of ${this.targetName}:\n${errorInfo(error).traceback.join("\n")}\n`);
      }
    }
  }
}

const commTargets = new Map<string, (comm: Comm, data: unknown, metadata: Record<string, unknown>) => void>();
const openComms = new Map<string, Comm>();

const comms = {
  /** Called when the front end opens a comm with this target name. */
  registerTarget(targetName: string, handler: (comm: Comm, data: unknown, metadata: Record<string, unknown>) => void): void {
    commTargets.set(targetName, handler);
  },
  /** Opens a comm to the front end. */
  open(targetName: string, data: unknown = {}, metadata: Record<string, unknown> = {}): Comm {
    const comm = new Comm(randomUUID(), targetName);
    openComms.set(comm.commId, comm);
    emit({ type: "comm_open", commId: comm.commId, targetName, data: jsonData(data, "comm data"), metadata: jsonData(metadata, "comm metadata") });
    return comm;
  },
};

function commOpenFromFrontEnd(commId: string, targetName: string, data: unknown, metadata: Record<string, unknown>): boolean {
  const handler = commTargets.get(targetName);
  if (!handler) return false;
  const comm = new Comm(commId, targetName);
  openComms.set(commId, comm);
  try {
    handler(comm, data, metadata);
  } catch (error) {
    write("stderr", `Error in the comm target ${targetName}:\n${errorInfo(error).traceback.join("\n")}\n`);
  }
  return true;
}

const notebookGlobals: Record<string, unknown> = {
  display,
  clearOutput,
  html,
  svg,
  md,
  input: (prompt = "") => requestInput(prompt, false),
  password: (prompt = "") => requestInput(prompt, true),
  help,
  comms,
  require: notebookRequire,
  __dropoutLabImport: importModule,
};
for (const [name, value] of Object.entries(notebookGlobals)) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

// ---------------------------------------------------------------------------------------------------------

function reply(id: number, value: unknown): void {
  flush();
  send({ type: "reply", id, value });
}

let compilerPort: MessagePort | undefined;

function onMessage(message: ToWorker): void {
  switch (message.type) {
    case "run":
      void run(message);
      break;
    case "interrupt":
      if (current?.id === message.id) current.interrupt();
      break;
    case "input_reply":
      inputWaiters.get(message.id)?.(message.value);
      inputWaiters.delete(message.id);
      break;
    case "expressions":
      void evaluateExpressions(message.expressions).then((value) => reply(message.id, value));
      break;
    case "comm_open":
      reply(message.id, commOpenFromFrontEnd(message.commId, message.targetName, message.data, message.metadata));
      break;
    case "comm_msg":
    case "comm_close":
      openComms.get(message.commId)?.deliver(message.type === "comm_msg" ? "msg" : "close", message.data, message.metadata);
      reply(message.id, undefined);
      break;
    case "comm_info": {
      const info: Record<string, { target_name: string }> = {};
      for (const [id, comm] of openComms) {
        if (message.targetName === undefined || comm.targetName === message.targetName) info[id] = { target_name: comm.targetName };
      }
      reply(message.id, info);
      break;
    }
    case "compiler_port":
      compilerPort?.close();
      compilerPort = message.port;
      compilerPort.on("message", onMessage);
      break;
  }
}
port.on("message", onMessage);

send({ type: "ready" });
