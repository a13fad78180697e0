/**
 * The protocol side of the kernel: a handler table keyed by message type (each `*_request` handler parses the
 * request and returns the reply content; the dispatcher owns status, reply and idle), an ordered shell queue
 * that runs one request at a time, and a control queue that is served even while a cell runs.
 */
import { createRequire } from "node:module";
import type { KernelMessage } from "@jupyterlab/services";
import type { ExecEvent, ExecuteOutcome, Executor } from "./exec/types.js";
import type { HistoryRow, HistoryStore } from "./history.js";
import { decode, encode, type JsonObject, type Message, PROTOCOL_VERSION, Session, type Signer, WireError } from "./wire.js";

export type SocketChannel = "shell" | "control" | "stdin" | "iopub";

/** Where the kernel's frames go: one ordered outbox per socket (ZeroMQ sockets in production, a fake in tests). */
export interface Outbox {
  send(channel: SocketChannel, frames: Buffer[]): void;
}

export interface KernelOptions {
  /** The executor, or a promise of it (the kernel answers kernel_info while a slow-loading executor arrives). */
  executor: Executor | Promise<Executor>;
  outbox: Outbox;
  signer: Signer;
  history: HistoryStore;
  /** One line of diagnostics (stderr in production). */
  log?: (line: string) => void;
  /** Called once after a shutdown_request has been answered and its idle published. */
  onShutdown?: (restart: boolean) => void;
}

type Handler = (request: Message, channel: "shell" | "control") => Promise<JsonObject | null>;

/** An execute request whose cell has been handed to the executor. */
interface Started {
  code: string;
  count: number;
  silent: boolean;
  storeHistory: boolean;
  stopOnError: boolean;
  userExpressions: Record<string, string>;
  events: Sink;
  outcome: Promise<ExecuteOutcome>;
}

interface Sink {
  onEvent: (e: ExecEvent) => void;
  /** Publishes what arrived so far, and from now on each event as it arrives. */
  open: () => void;
  close: () => void;
}

interface Queued {
  message: Message;
  /** Arrival order on the shell socket, for stop_on_error's abort horizon. */
  seq: number;
}

const require = createRequire(import.meta.url);
const TYPESCRIPT_VERSION: string = require("typescript/package.json").version;
const KERNEL_VERSION: string = require("dropout-lab/package.json").version;

const HELD_LIMIT = 1000;

/** Requests answered without waiting for the executor to be ready. */
const WITHOUT_EXECUTOR = new Set(["kernel_info_request", "interrupt_request", "shutdown_request"]);

const str = (v: unknown, fallback: string): string => (typeof v === "string" ? v : fallback);
const bool = (v: unknown, fallback: boolean): boolean => (typeof v === "boolean" ? v : fallback);
const int = (v: unknown, fallback: number): number => (typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : fallback);
const obj = (v: unknown): JsonObject => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : {});

export class Kernel {
  readonly session = new Session();
  private executionCount = 0;
  private readonly shellQueue: Queued[] = [];
  private readonly controlQueue: Message[] = [];
  private shellBusy = false;
  private controlBusy = false;
  private received = 0;
  /** Execute requests that arrived at or before this sequence number are aborted (set by a failed cell). */
  private abortThrough = -1;
  private pendingInput: { resolve: (v: string) => void; reject: (e: Error) => void } | null = null;
  private shuttingDown: { restart: boolean } | null = null;
  private shutdownSignalled = false;
  private executorReady: Promise<void> = Promise.resolve();
  /** Set once `executorReady` has resolved. */
  private executorStarted = false;
  /** Set once the executor has been created (it may still be starting). */
  private executorOrNull: Executor | null = null;
  /** The shell request being handled: the parent of background output that arrives meanwhile. */
  private active: Message | null = null;
  /** Background output held for the next execute request. */
  private readonly held: ExecEvent[] = [];
  private readonly log: (line: string) => void;

  private readonly handlers: Record<string, Handler> = {
    kernel_info_request: () => this.kernelInfo(),
    execute_request: (m) => this.execute(m, this.startExecute(m)),
    complete_request: (m) => this.complete(m),
    inspect_request: (m) => this.inspect(m),
    is_complete_request: (m) => this.isComplete(m),
    history_request: (m) => this.historyRequest(m),
    comm_info_request: (m) => this.commInfo(m),
    comm_open: (m) => this.commOpen(m),
    comm_msg: (m) => this.commMsg(m),
    comm_close: (m) => this.commClose(m),
    interrupt_request: () => this.interruptRequest(),
    shutdown_request: (m) => this.shutdownRequest(m),
  };

  constructor(private readonly options: KernelOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(line + "\n"));
  }

  /** The executor, for handlers that run after `executorReady`. */
  private get executor(): Executor {
    if (!this.executorOrNull) throw new Error("the executor is not loaded yet");
    return this.executorOrNull;
  }

  /** Publishes the "starting" status and starts the executor; requests that need it wait for it. */
  start(): Promise<void> {
    this.publish("status", { execution_state: "starting" });
    this.executorReady = Promise.resolve(this.options.executor).then((executor) => {
      this.executorOrNull = executor;
      return executor.start();
    });
    this.executorReady.then(() => (this.executorStarted = true), () => undefined);
    return this.executorReady;
  }

  /** Frames from a socket; anything malformed, unsigned, forged or replayed is logged and dropped. */
  receive(channel: SocketChannel, frames: Buffer[]): void {
    let message: Message;
    try {
      message = decode(frames, this.options.signer);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.log(`dropout-lab: dropped a message on ${channel}: ${e.message}`);
      return;
    }
    if (channel === "shell") {
      this.shellQueue.push({ message, seq: this.received++ });
      void this.drainShell();
    } else if (channel === "control") {
      this.controlQueue.push(message);
      void this.drainControl();
    } else if (channel === "stdin") {
      this.inputReply(message);
    } else {
      this.log(`dropout-lab: ignored a ${message.header.msg_type} sent to iopub`);
    }
  }

  /** A new iopub subscriber (XPUB subscription): greet it as protocol 5.5 does. */
  subscribed(topic: Buffer): void {
    const welcome = this.session.message("iopub_welcome", { subscription: topic.toString("utf8") }, undefined, [topic]);
    this.options.outbox.send("iopub", encode(welcome, this.options.signer));
  }

  /** SIGINT or interrupt_request: stop the running cell and any pending input. */
  interrupt(): void {
    this.executorOrNull?.interrupt();
    this.pendingInput?.reject(new Error("interrupted while waiting for input"));
    this.pendingInput = null;
  }

  private async drainShell(): Promise<void> {
    if (this.shellBusy) return;
    this.shellBusy = true;
    try {
      for (let next = this.shellQueue.shift(); next && !this.shuttingDown; next = this.shellQueue.shift()) {
        const { message, seq } = next;
        if (message.header.msg_type === "execute_request" && seq <= this.abortThrough) {
          await this.dispatch(message, "shell", async () => ({ status: "aborted", execution_count: this.executionCount }));
        } else {
          await this.dispatch(message, "shell");
        }
      }
    } finally {
      this.shellBusy = false;
    }
  }

  private async drainControl(): Promise<void> {
    if (this.controlBusy) return;
    this.controlBusy = true;
    try {
      for (let next = this.controlQueue.shift(); next && !this.shuttingDown; next = this.controlQueue.shift()) {
        await this.dispatch(next, "control");
      }
    } finally {
      this.controlBusy = false;
    }
  }

  /** busy → handler → reply → idle; nothing is published for this request after its idle. */
  private async dispatch(request: Message, channel: "shell" | "control", override?: Handler): Promise<void> {
    const type = request.header.msg_type;
    // A cell goes to a started executor before anything is published: it is checked while busy goes out.
    if (type === "execute_request" && !override && this.executorStarted) {
      const started = this.startExecute(request);
      override = (m) => this.execute(m, started);
    }
    this.publish("status", { execution_state: "busy" }, request);
    if (channel === "shell") this.active = request;
    try {
      const handler = override ?? (Object.hasOwn(this.handlers, type) ? this.handlers[type] : undefined);
      if (!handler) {
        this.log(`dropout-lab: unknown message type ${JSON.stringify(type)} on ${channel}`);
        return;
      }
      let reply: JsonObject | null;
      try {
        if (!WITHOUT_EXECUTOR.has(type)) await this.executorReady;
        reply = await handler(request, channel);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        this.log(`dropout-lab: ${type} failed: ${err.stack ?? err.message}`);
        reply = type.endsWith("_request")
          ? { status: "error", ename: err.name, evalue: err.message, traceback: (err.stack ?? err.message).split("\n") }
          : null;
      }
      if (reply) this.reply(request, channel, type.replace(/_request$/, "_reply"), reply);
    } finally {
      if (this.active === request) this.active = null;
      this.publish("status", { execution_state: "idle" }, request);
    }
    if (this.shuttingDown && !this.shutdownSignalled) {
      this.shutdownSignalled = true;
      this.options.onShutdown?.(this.shuttingDown.restart);
    }
  }

  private reply(request: Message, channel: SocketChannel, type: string, content: JsonObject): void {
    this.options.outbox.send(channel, encode(this.session.message(type, content, request), this.options.signer));
  }

  private publish(type: string, content: JsonObject, parent?: Message, metadata: JsonObject = {}): void {
    const topic = Buffer.from(`kernel.${this.session.id}.${type}`);
    const message = this.session.message(type, content, parent, [topic], metadata);
    this.options.outbox.send("iopub", encode(message, this.options.signer));
  }

  /** Publishes one executor event on iopub as a child of `parent` (unparented when none). */
  private publishEvent(event: ExecEvent, parent?: Message): void {
    switch (event.type) {
      case "stream":
        return this.publish("stream", { name: event.name, text: event.text }, parent);
      case "display":
        return this.publish(
          event.update ? "update_display_data" : "display_data",
          { data: event.data, metadata: event.metadata, transient: event.displayId === undefined ? {} : { display_id: event.displayId } },
          parent,
        );
      case "clear_output":
        return this.publish("clear_output", { wait: event.wait }, parent);
      case "comm_open":
        return this.publish(
          "comm_open",
          { comm_id: event.commId, target_name: event.targetName, data: event.data },
          parent,
          event.metadata,
        );
      case "comm_msg":
        return this.publish("comm_msg", { comm_id: event.commId, data: event.data }, parent, event.metadata);
      case "comm_close":
        return this.publish("comm_close", { comm_id: event.commId, data: event.data }, parent, event.metadata);
    }
  }

  /**
   * An event sink valid while `parent` is being handled: events are held until `open` (after execute_input),
   * then published; later events are logged, never published.
   */
  private sink(parent: Message): Sink {
    let state: "held" | "open" | "closed" = "held";
    const held: ExecEvent[] = [];
    return {
      onEvent: (e) => {
        if (state === "open") this.publishEvent(e, parent);
        else if (state === "held") held.push(e);
        else this.log(`dropout-lab: a ${e.type} event arrived after its request ended; dropped`);
      },
      open: () => {
        state = "open";
        for (const e of held.splice(0)) this.publishEvent(e, parent);
      },
      close: () => {
        state = "closed";
      },
    };
  }

  /**
   * Output from the executor while no cell runs (comm handlers, timers after a cell ended). During a request
   * it is published as that request's child; otherwise comm messages go out unparented (front ends route
   * them by comm id) and other output waits for the next execute request, so none follows an idle.
   */
  background(event: ExecEvent): void {
    if (this.active) this.publishEvent(event, this.active);
    else if (event.type.startsWith("comm_")) this.publishEvent(event);
    else if (this.held.length < HELD_LIMIT) this.held.push(event);
    else this.log(`dropout-lab: dropped background ${event.type} output (more than ${HELD_LIMIT} held)`);
  }

  // ---- handlers -------------------------------------------------------------------------------------------

  private async kernelInfo(): Promise<JsonObject> {
    const info = {
      status: "ok",
      protocol_version: PROTOCOL_VERSION,
      implementation: "dropout-lab",
      implementation_version: KERNEL_VERSION,
      language_info: {
        name: "typescript",
        version: TYPESCRIPT_VERSION,
        mimetype: "text/typescript",
        file_extension: ".ts",
        codemirror_mode: "typescript",
        pygments_lexer: "typescript",
      },
      banner: `dropout-lab ${KERNEL_VERSION}: TypeScript ${TYPESCRIPT_VERSION} on Node ${process.versions.node}`,
      help_links: [
        { text: "TypeScript Handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
        { text: "Node.js API", url: `https://nodejs.org/docs/latest-v${process.versions.node.split(".")[0]}.x/api/` },
      ],
    } satisfies KernelMessage.IInfoReply;
    return { ...info, debugger: false };
  }

  /** Hands an execute request's cell to the executor; its output waits for `execute` to open the sink. */
  private startExecute(request: Message): Started {
    const c = request.content;
    const code = str(c.code, "");
    const silent = bool(c.silent, false);
    const storeHistory = bool(c.store_history, !silent) && !silent;
    const allowStdin = bool(c.allow_stdin, false);
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    const events = this.sink(request);
    const outcome = this.executor.execute(code, {
      executionCount: count,
      silent,
      storeHistory,
      allowStdin,
      onEvent: events.onEvent,
      onInputRequest: (prompt, password) => this.requestInput(request, allowStdin, prompt, password),
    });
    const stopOnError = bool(c.stop_on_error, true);
    const userExpressions = obj(c.user_expressions) as Record<string, string>;
    return { code, count, silent, storeHistory, stopOnError, userExpressions, events, outcome };
  }

  private async execute(request: Message, started: Started): Promise<JsonObject> {
    const { code, count, silent, storeHistory, stopOnError, userExpressions, events } = started;
    if (!silent) this.publish("execute_input", { code, execution_count: count }, request);
    for (const e of this.held.splice(0)) this.publishEvent(e, request);
    events.open();
    let outcome: ExecuteOutcome;
    try {
      outcome = await started.outcome;
    } finally {
      events.close();
    }

    if (storeHistory) {
      const text = outcome.status === "ok" ? outcome.result?.data["text/plain"] : undefined;
      this.options.history.add(count, code, typeof text === "string" ? text : null);
    }
    if (outcome.status === "aborted") return { status: "aborted", execution_count: count };
    if (outcome.status === "error") {
      const { ename, evalue, traceback } = outcome;
      this.publish("error", { ename, evalue, traceback }, request);
      if (stopOnError) this.abortThrough = this.received - 1;
      return { status: "error", execution_count: count, ename, evalue, traceback };
    }
    if (outcome.result && !silent) {
      this.publish("execute_result", { execution_count: count, data: outcome.result.data, metadata: outcome.result.metadata }, request);
    }
    const expressions = Object.keys(userExpressions).length
      ? await this.executor.evaluateExpressions(userExpressions)
      : {};
    return { status: "ok", execution_count: count, payload: outcome.payload ?? [], user_expressions: expressions };
  }

  private requestInput(request: Message, allowed: boolean, prompt: string, password: boolean): Promise<string> {
    if (!allowed) return Promise.reject(new Error("this front end does not support input requests (allow_stdin is false)"));
    if (this.pendingInput) return Promise.reject(new Error("an input request is already waiting for its reply"));
    return new Promise<string>((resolve, reject) => {
      this.pendingInput = { resolve, reject };
      const message = this.session.message("input_request", { prompt, password }, request, request.identities);
      this.options.outbox.send("stdin", encode(message, this.options.signer));
    });
  }

  private inputReply(message: Message): void {
    if (message.header.msg_type !== "input_reply") {
      this.log(`dropout-lab: ignored a ${message.header.msg_type} on stdin`);
      return;
    }
    if (!this.pendingInput) {
      this.log("dropout-lab: an input_reply arrived with no input request waiting");
      return;
    }
    const pending = this.pendingInput;
    this.pendingInput = null;
    pending.resolve(str(message.content.value, ""));
  }

  private async complete(request: Message): Promise<JsonObject> {
    const code = str(request.content.code, "");
    const r = await this.executor.complete(code, int(request.content.cursor_pos, code.length));
    return { status: "ok", matches: r.matches, cursor_start: r.cursorStart, cursor_end: r.cursorEnd, metadata: r.metadata };
  }

  private async inspect(request: Message): Promise<JsonObject> {
    const code = str(request.content.code, "");
    const c = request.content;
    const r = await this.executor.inspect(code, int(c.cursor_pos, code.length), int(c.detail_level, 0));
    return { status: "ok", found: r.found, data: r.found ? r.data : {}, metadata: {} };
  }

  private async isComplete(request: Message): Promise<JsonObject> {
    return { ...(await this.executor.isComplete(str(request.content.code, ""))) };
  }

  private async historyRequest(request: Message): Promise<JsonObject> {
    const c = request.content;
    const output = bool(c.output, false);
    const h = this.options.history;
    let history: HistoryRow[];
    switch (c.hist_access_type) {
      case "tail":
        history = h.tail(int(c.n, 10), output);
        break;
      case "range":
        history = h.range(int(c.session, 0), int(c.start, 0), typeof c.stop === "number" ? int(c.stop, 0) : null, output);
        break;
      case "search":
        history = h.search(str(c.pattern, "*"), typeof c.n === "number" ? int(c.n, 0) : null, bool(c.unique, false), output);
        break;
      default:
        throw new Error(`hist_access_type must be tail, range or search, got ${JSON.stringify(c.hist_access_type)}`);
    }
    return { status: "ok", history };
  }

  private async commInfo(request: Message): Promise<JsonObject> {
    const target = request.content.target_name;
    return { status: "ok", comms: await this.executor.commInfo(typeof target === "string" ? target : undefined) };
  }

  private async commOpen(request: Message): Promise<null> {
    const c = request.content;
    const commId = str(c.comm_id, "");
    if (!(await this.executor.commOpen(commId, str(c.target_name, ""), c.data ?? {}, request.metadata))) {
      this.log(`dropout-lab: no comm target ${JSON.stringify(c.target_name)}; closing comm ${commId}`);
      this.publish("comm_close", { comm_id: commId, data: {} }, request);
    }
    return null;
  }

  private async commMsg(request: Message): Promise<null> {
    await this.executor.commMsg(str(request.content.comm_id, ""), request.content.data ?? {}, request.metadata);
    return null;
  }

  private async commClose(request: Message): Promise<null> {
    await this.executor.commClose(str(request.content.comm_id, ""), request.content.data ?? {}, request.metadata);
    return null;
  }

  private async interruptRequest(): Promise<JsonObject> {
    this.interrupt();
    return { status: "ok" };
  }

  private async shutdownRequest(request: Message): Promise<JsonObject> {
    const restart = bool(request.content.restart, false);
    const content = { status: "ok", restart };
    this.publish("shutdown_reply", content, request);
    this.shuttingDown = { restart };
    return content;
  }
}
