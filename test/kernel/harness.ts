/** Test doubles for in-process kernel tests: a scripted executor and an outbox that records what is sent. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecEvent, ExecuteOptions, ExecuteOutcome, Executor, MimeBundle } from "../../kernel/exec/types.js";
import { HistoryStore } from "../../kernel/history.js";
import { Kernel, type SocketChannel } from "../../kernel/kernel.js";
import { decode, encode, type JsonObject, type Message, Session, Signer } from "../../kernel/wire.js";

export const KEY = "0f1e2d3c-test-key";

/** An executor whose `execute` runs a script given by the test; every call is recorded. */
export class FakeExecutor implements Executor {
  calls: { method: string; args: unknown[] }[] = [];
  interrupts = 0;
  started = false;
  shutDown = false;
  comms = new Map<string, string>();
  targets = new Set<string>(["known.target"]);
  script: (code: string, options: ExecuteOptions) => Promise<ExecuteOutcome> = async (code) => ({
    status: "ok",
    result: { data: { "text/plain": code }, metadata: {} },
  });
  /** The kernel's background sink (ExecutorOptions.onBackgroundEvent in production). */
  background: (e: ExecEvent) => void = () => {};
  /** A comm handler: answers through the background sink, as the real executor's comms do. */
  commHandler: (commId: string, data: unknown) => void = () => {};

  async start(): Promise<void> {
    this.started = true;
  }
  execute(code: string, options: ExecuteOptions): Promise<ExecuteOutcome> {
    this.calls.push({ method: "execute", args: [code, { ...options }] });
    return this.script(code, options);
  }
  async evaluateExpressions(expressions: Record<string, string>) {
    this.calls.push({ method: "evaluateExpressions", args: [expressions] });
    const out: Record<string, { status: "ok"; data: MimeBundle; metadata: Record<string, unknown> }> = {};
    for (const [k, v] of Object.entries(expressions)) out[k] = { status: "ok", data: { "text/plain": `<${v}>` }, metadata: {} };
    return out;
  }
  async complete(code: string, cursorPos: number) {
    this.calls.push({ method: "complete", args: [code, cursorPos] });
    return { matches: ["alpha", "alphabet"], cursorStart: cursorPos - 2, cursorEnd: cursorPos, metadata: {} };
  }
  async inspect(code: string, cursorPos: number, detailLevel: number) {
    this.calls.push({ method: "inspect", args: [code, cursorPos, detailLevel] });
    return code === "missing" ? { found: false, data: {} } : { found: true, data: { "text/plain": `doc of ${code}` } };
  }
  async isComplete(code: string) {
    return code.endsWith("{") ? { status: "incomplete" as const, indent: "  " } : { status: "complete" as const };
  }
  async commOpen(commId: string, targetName: string, data: unknown, metadata: Record<string, unknown>) {
    this.calls.push({ method: "commOpen", args: [commId, targetName, data, metadata] });
    if (!this.targets.has(targetName)) return false;
    this.comms.set(commId, targetName);
    this.commHandler(commId, data);
    return true;
  }
  async commMsg(commId: string, data: unknown, metadata: Record<string, unknown>) {
    this.calls.push({ method: "commMsg", args: [commId, data, metadata] });
    this.commHandler(commId, data);
  }
  async commClose(commId: string, data: unknown, metadata: Record<string, unknown>) {
    this.calls.push({ method: "commClose", args: [commId, data, metadata] });
    this.comms.delete(commId);
  }
  async commInfo(targetName?: string) {
    const out: Record<string, { target_name: string }> = {};
    for (const [id, t] of this.comms) if (targetName === undefined || t === targetName) out[id] = { target_name: t };
    return out;
  }
  interrupt(): void {
    this.interrupts++;
  }
  async shutdown(): Promise<void> {
    this.shutDown = true;
  }
}

export interface Sent {
  channel: SocketChannel;
  message: Message;
}

/** A kernel wired to a recording outbox, and a client side that signs requests with the same key. */
export class Harness {
  readonly sent: Sent[] = [];
  readonly logs: string[] = [];
  readonly executor = new FakeExecutor();
  readonly client = new Session("tester");
  readonly clientSigner = new Signer(KEY);
  readonly historyPath: string;
  readonly kernel: Kernel;
  shutdowns: boolean[] = [];
  /** What kernel.start() published. */
  readonly starting: Sent[];

  constructor(historyPath = join(mkdtempSync(join(tmpdir(), "dl-hist-")), "history.jsonl")) {
    this.historyPath = historyPath;
    const readSigner = new Signer(KEY);
    this.kernel = new Kernel({
      executor: this.executor,
      outbox: {
        send: (channel, frames) => {
          // Each frame list must be a valid, signed message; decode it as a client would.
          this.sent.push({ channel, message: decode(frames, readSigner) });
        },
      },
      signer: new Signer(KEY),
      history: new HistoryStore(historyPath, (l) => this.logs.push(l)),
      log: (l) => this.logs.push(l),
      onShutdown: (restart) => this.shutdowns.push(restart),
    });
    this.executor.background = (e) => this.kernel.background(e);
    void this.kernel.start();
    this.starting = this.sent.splice(0);
  }

  /** Builds and signs a request; `identities` route it as a ROUTER socket would. */
  frames(msgType: string, content: JsonObject, identities = [Buffer.from("client-1")]): { frames: Buffer[]; msgId: string } {
    const message = this.client.message(msgType, content, undefined, identities);
    return { frames: encode(message, this.clientSigner), msgId: message.header.msg_id };
  }

  send(channel: SocketChannel, msgType: string, content: JsonObject = {}): string {
    const { frames, msgId } = this.frames(msgType, content);
    this.kernel.receive(channel, frames);
    return msgId;
  }

  /** Messages whose parent is `msgId`, in the order sent. */
  childrenOf(msgId: string): Sent[] {
    return this.sent.filter((s) => (s.message.parentHeader as { msg_id?: string }).msg_id === msgId);
  }

  iopubTypes(msgId: string): string[] {
    return this.childrenOf(msgId)
      .filter((s) => s.channel === "iopub")
      .map((s) => (s.message.header.msg_type === "status" ? `status:${s.message.content.execution_state}` : s.message.header.msg_type));
  }

  reply(msgId: string): Sent | undefined {
    return this.childrenOf(msgId).find((s) => s.channel !== "iopub" && s.message.header.msg_type.endsWith("_reply"));
  }

  /** Resolves once the request's idle status has been published. */
  async idle(msgId: string, timeoutMs = 2000): Promise<void> {
    await until(() => this.iopubTypes(msgId).includes("status:idle"), timeoutMs, `idle for ${msgId}`);
  }
}

export async function until(check: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A promise with its resolve exposed, to hold a fake cell running until the test releases it. */
export function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}
