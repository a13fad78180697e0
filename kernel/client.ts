/**
 * A small Jupyter client over real ZeroMQ sockets, used by the headless runner and the spawned-kernel
 * tests: writes a connection file with a non-empty key and free ports, spawns
 * `node dist/kernel/cli.js kernel -f <file>`, and talks to it with Dealer (shell, control, stdin),
 * Subscriber (iopub) and Request (heartbeat) sockets.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dealer, Request, Subscriber } from "zeromq";
import { type ConnectionInfo, writeConnectionFile } from "./connection.js";
import { packageRoot } from "./root.js";
import { decode, encode, type JsonObject, type Message, Session, Signer } from "./wire.js";

export const ROOT = packageRoot();
export const CLI = join(ROOT, "dist", "kernel", "cli.js");

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once("error", rej);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

export async function connectionInfo(key = randomBytes(16).toString("hex")): Promise<ConnectionInfo> {
  return {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: await freePort(),
    control_port: await freePort(),
    stdin_port: await freePort(),
    iopub_port: await freePort(),
    hb_port: await freePort(),
    key,
    signature_scheme: "hmac-sha256",
  };
}

type Channel = "shell" | "control" | "stdin" | "iopub";

/** Collects incoming messages per channel; `next` waits for one matching a predicate. */
class Inbox {
  private readonly messages: Message[] = [];
  private waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  push(m: Message): void {
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    else this.messages.push(m);
  }

  next(match: (m: Message) => boolean = () => true, timeoutMs = 10_000, what = "a message"): Promise<Message> {
    const i = this.messages.findIndex(match);
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0]);
    return new Promise((res, rej) => {
      const waiter = {
        match,
        resolve: (m: Message) => {
          clearTimeout(timer);
          res(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        rej(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  drain(): Message[] {
    return this.messages.splice(0);
  }
}

export class KernelClient {
  readonly session = new Session("tester");
  readonly signer: Signer;
  readonly stderr: string[] = [];
  /** performance.now() just after the kernel process was spawned. */
  readonly spawnedAt = performance.now();
  readonly inbox: Record<Channel, Inbox> = { shell: new Inbox(), control: new Inbox(), stdin: new Inbox(), iopub: new Inbox() };
  private readonly sockets: { shell: Dealer; control: Dealer; stdin: Dealer; iopub: Subscriber };
  private exited: Promise<number | null>;

  private constructor(
    readonly info: ConnectionInfo,
    readonly child: ChildProcess,
  ) {
    this.signer = new Signer(info.key);
    const routingId = `client-${randomBytes(4).toString("hex")}`;
    // Retry connecting every 10 ms (ZeroMQ's default is 100 ms) so a kernel is reached as soon as it binds.
    const options = { linger: 0, reconnectInterval: 10 };
    this.sockets = {
      shell: new Dealer({ routingId, ...options }),
      control: new Dealer({ routingId, ...options }),
      stdin: new Dealer({ routingId, ...options }),
      iopub: new Subscriber(options),
    };
    child.stderr?.on("data", (d: Buffer) => this.stderr.push(d.toString()));
    this.exited = new Promise((r) => child.once("exit", (code) => r(code)));
  }

  /**
   * Spawns a kernel on a fresh connection file (non-empty key unless given) and connects to it. The kernel is
   * this package's unless `argv` names another command line, kernelspec style: `{connection_file}` in it is
   * replaced by the file's path.
   */
  static async start(
    options: { key?: string; env?: NodeJS.ProcessEnv; cwd?: string; ipc?: boolean; argv?: string[] } = {},
  ): Promise<KernelClient> {
    const dir = mkdtempSync(join(tmpdir(), "dl-kernel-"));
    const info = await connectionInfo(options.key);
    if (options.ipc) {
      info.transport = "ipc";
      info.ip = join(dir, "kernel-ipc");
    }
    const file = join(dir, "connection.json");
    writeConnectionFile(file, info);
    const [command, ...args] = options.argv?.map((a) => a.replaceAll("{connection_file}", file)) ?? [process.execPath, CLI, "kernel", "-f", file];
    if (command === undefined) throw new Error("KernelClient.start: argv is empty");
    const child = spawn(command, args, {
      cwd: options.cwd ?? dir,
      env: { ...process.env, JUPYTER_DATA_DIR: join(dir, "data"), ...options.env },
      stdio: ["ignore", "inherit", "pipe"],
    });
    const client = new KernelClient(info, child);
    client.connect();
    return client;
  }

  private connect(): void {
    const url = (port: number) => (this.info.transport === "tcp" ? `tcp://${this.info.ip}:${port}` : `ipc://${this.info.ip}-${port}`);
    this.sockets.shell.connect(url(this.info.shell_port));
    this.sockets.control.connect(url(this.info.control_port));
    this.sockets.stdin.connect(url(this.info.stdin_port));
    this.sockets.iopub.connect(url(this.info.iopub_port));
    this.sockets.iopub.subscribe("");
    for (const channel of ["shell", "control", "stdin", "iopub"] as const) void this.receive(channel);
  }

  private async receive(channel: Channel): Promise<void> {
    const socket = this.sockets[channel];
    const reader = new Signer(this.info.key);
    try {
      for await (const frames of socket) this.inbox[channel].push(decode(frames, reader));
    } catch (e) {
      if (!socket.closed) throw e;
    }
  }

  message(msgType: string, content: JsonObject = {}): Message {
    return this.session.message(msgType, content, undefined, []);
  }

  async sendFrames(channel: Exclude<Channel, "iopub">, frames: Buffer[]): Promise<void> {
    await this.sockets[channel].send(frames);
  }

  /** Sends a request and returns its msg_id. */
  async send(channel: Exclude<Channel, "iopub">, msgType: string, content: JsonObject = {}): Promise<string> {
    const m = this.message(msgType, content);
    await this.sendFrames(channel, encode(m, this.signer));
    return m.header.msg_id;
  }

  reply(channel: Channel, msgId: string, timeoutMs = 10_000): Promise<Message> {
    return this.inbox[channel].next((m) => (m.parentHeader as { msg_id?: string }).msg_id === msgId, timeoutMs, `a reply to ${msgId} on ${channel}`);
  }

  /** iopub messages for a request up to and including its idle status; `each` sees each one as it arrives. */
  async iopubUntilIdle(msgId: string, timeoutMs = 10_000, each?: (m: Message) => void): Promise<Message[]> {
    const out: Message[] = [];
    for (;;) {
      const m = await this.inbox.iopub.next((x) => (x.parentHeader as { msg_id?: string }).msg_id === msgId, timeoutMs, `iopub for ${msgId}`);
      out.push(m);
      each?.(m);
      if (m.header.msg_type === "status" && m.content.execution_state === "idle") return out;
    }
  }

  /** Sends a request, returns [reply, iopub messages through idle]. */
  async request(channel: "shell" | "control", msgType: string, content: JsonObject = {}, timeoutMs = 10_000): Promise<[Message, Message[]]> {
    const id = await this.send(channel, msgType, content);
    const reply = await this.reply(channel, id, timeoutMs);
    return [reply, await this.iopubUntilIdle(id, timeoutMs)];
  }

  /** Retries kernel_info until the kernel answers and iopub is connected (as jupyter_client does). */
  async ready(timeoutMs = 15_000): Promise<Message> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const id = await this.send("shell", "kernel_info_request");
      try {
        const reply = await this.reply("shell", id, 1000);
        await this.iopubUntilIdle(id, 1000);
        return reply;
      } catch (e) {
        if (Date.now() > end) throw new Error(`kernel not ready: ${(e as Error).message}\nstderr: ${this.stderr.join("")}`);
      }
    }
  }

  /** One heartbeat round trip on a fresh REQ socket; resolves with the echoed payload. */
  async ping(payload: Buffer, timeoutMs = 5000): Promise<Buffer> {
    const hb = new Request({ linger: 0, receiveTimeout: timeoutMs });
    hb.connect(this.info.transport === "tcp" ? `tcp://${this.info.ip}:${this.info.hb_port}` : `ipc://${this.info.ip}-${this.info.hb_port}`);
    try {
      await hb.send(payload);
      const [echo] = await hb.receive();
      return echo;
    } finally {
      hb.close();
    }
  }

  exit(): Promise<number | null> {
    return this.exited;
  }

  /** Closes the client sockets and makes sure the kernel process is gone. */
  async close(): Promise<void> {
    for (const s of Object.values(this.sockets)) if (!s.closed) s.close();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}
