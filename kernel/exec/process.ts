/**
 * The kernel's executor: a proxy to an evaluator process (host.ts), forked with an IPC channel, which runs
 * the WorkerExecutor. A cell that takes the evaluator process down (V8's fatal heap exhaustion, a native
 * crash, a signal) ends with an "EvaluatorRestarted" error saying why and that its state is lost; a fresh
 * process is started for the next request, and the kernel itself never stops. The evaluator's own stdout and
 * stderr are kept from the kernel's: the end of its stderr explains a death in the kernel's log.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FromHost, HostData, HostMethod, ToHost } from "./host.js";
import type { CompleteReply, ExecEvent, ExecuteOptions, ExecuteOutcome, Executor, InspectReply, IsCompleteReply } from "./types.js";

export interface ProcessExecutorOptions extends HostData {
  /** Output while no cell runs (see ExecutorOptions.onBackgroundEvent). */
  onBackgroundEvent: (event: ExecEvent) => void;
  /** One line of diagnostics. */
  log: (line: string) => void;
}

/** How much of the evaluator's stderr is kept to explain its death. */
const STDERR_TAIL = 4096;
/** How long a death's report waits for the rest of the evaluator's stderr (a process it started may hold the pipe). */
const STDERR_WAIT_MS = 200;
/** How long shutdown waits for the evaluator process to end its children and exit before killing it. */
const SHUTDOWN_MS = 2500;

const HOST = fileURLToPath(new URL("./host.js", import.meta.url));

/** Why the evaluator process ended, from its exit status and the end of its stderr. */
export function deathReason(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  if (/heap out of memory|Reached heap limit|invalid table size|invalid array length Allocation failed/i.test(stderr)) {
    return "ran out of memory";
  }
  if (signal === "SIGKILL") return "was killed by SIGKILL (as the system's out-of-memory killer does)";
  if (signal) return `was ended by ${signal}`;
  return `exited with code ${code}`;
}

interface Cell {
  options: ExecuteOptions;
  resolve: (outcome: ExecuteOutcome) => void;
}

interface Host {
  child: ChildProcess;
  ready: Promise<void>;
  cells: Map<number, Cell>;
  calls: Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>;
  stderr: string;
  /** Became ready once: only then is a death followed by a fresh start (a host that cannot start is not retried in a loop). */
  started: boolean;
}

export class ProcessExecutor implements Executor {
  private host?: Host;
  private nextId = 1;
  private shuttingDown = false;

  constructor(private readonly options: ProcessExecutorOptions) {}

  start(): Promise<void> {
    this.host ??= this.fork();
    return this.host.ready;
  }

  private fork(): Host {
    const data: HostData = { cwd: this.options.cwd, maxHeapMb: this.options.maxHeapMb };
    const child = fork(HOST, [JSON.stringify(data)], {
      cwd: this.options.cwd,
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    let ready!: () => void;
    let failed!: (error: Error) => void;
    const host: Host = {
      child,
      ready: new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject))),
      cells: new Map(),
      calls: new Map(),
      stderr: "",
      started: false,
    };
    host.ready.catch(() => undefined); // reported to whoever waits for it
    child.stdout!.resume();
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      host.stderr = (host.stderr + text).slice(-STDERR_TAIL);
    });
    // One message per macrotask, in order (as a worker's port delivers them): what a "done" resumes (the
    // kernel finishing that request) runs before output that followed it is handled as background output.
    child.on("message", (message: FromHost) =>
      setImmediate(() => {
        if (message.type !== "ready") return this.onMessage(host, message);
        host.started = true;
        ready();
      }),
    );
    child.on("error", (error) => this.options.log(`dropout-lab: evaluator process: ${error.message}`));
    child.on("exit", (code, signal) => {
      // stderr may still hold the reason: read what is left before reporting
      const report = () => {
        clearTimeout(timer);
        child.stderr!.off("close", report);
        this.onExit(host, code, signal);
      };
      const timer = setTimeout(report, STDERR_WAIT_MS);
      if (child.stderr!.closed) report();
      else child.stderr!.once("close", report);
      failed(new Error(`the evaluator process ${deathReason(code, signal, host.stderr)} while starting:\n${host.stderr}`));
    });
    return host;
  }

  private onMessage(host: Host, message: FromHost): void {
    switch (message.type) {
      case "events": {
        const sink = message.id === undefined ? this.options.onBackgroundEvent : host.cells.get(message.id)?.options.onEvent;
        for (const event of message.events) sink?.(event);
        break;
      }
      case "input_request": {
        const cell = host.cells.get(message.cell);
        const reply = (value: string | undefined, error?: string) => this.send(host, { type: "input_reply", id: message.id, value, error });
        if (!cell) reply(undefined, "the cell that asked for input has ended");
        else cell.options.onInputRequest(message.prompt, message.password).then(reply, (error: Error) => reply(undefined, error.message));
        break;
      }
      case "done":
        host.cells.get(message.id)?.resolve(message.outcome);
        host.cells.delete(message.id);
        break;
      case "reply": {
        const call = host.calls.get(message.id);
        host.calls.delete(message.id);
        if (message.error !== undefined) call?.reject(new Error(message.error));
        else call?.resolve(message.value);
        break;
      }
    }
  }

  private onExit(host: Host, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.host === host) this.host = undefined;
    if (this.shuttingDown) return;
    const reason = deathReason(code, signal, host.stderr);
    const lines = host.stderr.trim().split("\n");
    const why = lines.find((line) => line.includes("FATAL ERROR")) ?? lines.slice(-3).join(" | ");
    this.options.log(`dropout-lab: the evaluator process ${reason}${why ? ` (${why.trim()})` : ""}; starting a fresh one`);
    const evalue = `the evaluator ${reason}; its state was lost: earlier variables are gone (a fresh evaluator runs the next cell)`;
    for (const cell of host.cells.values()) {
      cell.resolve({ status: "error", ename: "EvaluatorRestarted", evalue, traceback: [`EvaluatorRestarted: ${evalue}`] });
    }
    for (const call of host.calls.values()) call.reject(new Error(`the evaluator ${reason}`));
    host.cells.clear();
    host.calls.clear();
    if (host.started) void this.start().catch(() => undefined); // a failure shows on the next request, which starts again
  }

  private send(host: Host, message: ToHost): void {
    if (host.child.connected) host.child.send(message);
  }

  /** Sends the cell at once to a host that is ready (the kernel publishes its busy meanwhile). */
  execute(code: string, options: ExecuteOptions): Promise<ExecuteOutcome> {
    const host = this.host;
    if (host?.started) return this.run(host, code, options);
    return this.start().then(() => this.run(this.host!, code, options));
  }

  private run(host: Host, code: string, options: ExecuteOptions): Promise<ExecuteOutcome> {
    const id = this.nextId++;
    return new Promise<ExecuteOutcome>((resolve) => {
      host.cells.set(id, { options, resolve });
      const { executionCount, silent, storeHistory, allowStdin } = options;
      this.send(host, { type: "execute", id, code, executionCount, silent, storeHistory, allowStdin });
    });
  }

  private async call<T>(method: HostMethod, ...args: unknown[]): Promise<T> {
    await this.start();
    const host = this.host!;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      host.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send(host, { type: "call", id, method, args });
    });
  }

  evaluateExpressions(expressions: Record<string, string>): ReturnType<Executor["evaluateExpressions"]> {
    return this.call("evaluateExpressions", expressions);
  }

  complete(code: string, cursorPos: number): Promise<CompleteReply> {
    return this.call("complete", code, cursorPos);
  }

  inspect(code: string, cursorPos: number, detailLevel: number): Promise<InspectReply> {
    return this.call("inspect", code, cursorPos, detailLevel);
  }

  isComplete(code: string): Promise<IsCompleteReply> {
    return this.call("isComplete", code);
  }

  commOpen(commId: string, targetName: string, data: unknown, metadata: Record<string, unknown>): Promise<boolean> {
    return this.call("commOpen", commId, targetName, data, metadata);
  }

  commMsg(commId: string, data: unknown, metadata: Record<string, unknown>): Promise<void> {
    return this.call("commMsg", commId, data, metadata);
  }

  commClose(commId: string, data: unknown, metadata: Record<string, unknown>): Promise<void> {
    return this.call("commClose", commId, data, metadata);
  }

  commInfo(targetName?: string): Promise<Record<string, { target_name: string }>> {
    return this.call("commInfo", targetName);
  }

  /** Interrupts the oldest unfinished cell (the running one); harmless when none runs. */
  interrupt(): void {
    const host = this.host;
    const [id] = host?.cells.keys() ?? [];
    if (host && id !== undefined) this.send(host, { type: "interrupt", id });
  }

  /** Asks the evaluator process to end (it ends its children too); kills it when it does not in time. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const host = this.host;
    if (!host) return;
    for (const cell of host.cells.values()) cell.resolve({ status: "aborted" });
    const exited = new Promise((resolve) => host.child.once("exit", resolve));
    if (host.child.exitCode !== null || host.child.signalCode !== null) return;
    host.child.kill("SIGTERM"); // the host ends its cells' processes, then exits (one still starting just ends)
    const timer = setTimeout(() => host.child.kill("SIGKILL"), SHUTDOWN_MS);
    await exited;
    clearTimeout(timer);
  }
}
