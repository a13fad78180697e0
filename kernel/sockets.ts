/**
 * The kernel's ZeroMQ sockets: shell, control and stdin ROUTER, iopub XPUB (subscriptions are reported so
 * each subscriber can be welcomed), and the heartbeat REP in a worker thread. Each socket has one ordered
 * outbox, since a ZeroMQ socket allows one send in flight.
 */
import { Worker } from "node:worker_threads";
import { Router, type Socket, XPublisher } from "zeromq";
import { type ConnectionInfo, endpoint } from "./connection.js";
import type { Outbox, SocketChannel } from "./kernel.js";

export interface SocketEvents {
  message(channel: SocketChannel, frames: Buffer[]): void;
  subscribed(topic: Buffer): void;
  log(line: string): void;
}

export class KernelSockets implements Outbox {
  private readonly sockets: Record<SocketChannel, Router | XPublisher>;
  private readonly outboxes: Record<SocketChannel, Promise<void>>;
  private heartbeatWorker: Worker | null = null;
  private heartbeatBound: Promise<void> = Promise.resolve();

  private constructor(private readonly events: SocketEvents) {
    const options = { linger: 1000 };
    this.sockets = {
      shell: new Router(options),
      control: new Router(options),
      stdin: new Router(options),
      iopub: new XPublisher(options),
    };
    (this.sockets.iopub as XPublisher).verbosity = "allSubs";
    this.outboxes = { shell: Promise.resolve(), control: Promise.resolve(), stdin: Promise.resolve(), iopub: Promise.resolve() };
  }

  /**
   * Binds every socket at exactly the connection file's addresses and starts receiving. The heartbeat thread
   * binds meanwhile (loading ZeroMQ in a thread takes a while); `heartbeat` settles when it has.
   */
  static async bind(info: ConnectionInfo, events: SocketEvents): Promise<KernelSockets> {
    const k = new KernelSockets(events);
    k.heartbeatBound = k.startHeartbeat(endpoint(info, "hb"));
    k.heartbeatBound.catch(() => {}); // reported through `heartbeat`
    try {
      await Promise.all((Object.keys(k.sockets) as SocketChannel[]).map((channel) => k.sockets[channel].bind(endpoint(info, channel))));
    } catch (e) {
      await k.close();
      throw e;
    }
    for (const channel of Object.keys(k.sockets) as SocketChannel[]) void k.receive(channel);
    return k;
  }

  /** Resolves once the heartbeat answers; rejects if it could not bind. */
  get heartbeat(): Promise<void> {
    return this.heartbeatBound;
  }

  private startHeartbeat(address: string): Promise<void> {
    const worker = new Worker(new URL("./heartbeat-worker.js", import.meta.url), { workerData: { endpoint: address } });
    this.heartbeatWorker = worker;
    return new Promise((resolve, reject) => {
      worker.once("message", (m: { bound?: true; error?: string }) =>
        m.bound ? resolve() : reject(new Error(`heartbeat: ${m.error}`)),
      );
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`heartbeat thread exited (${code}) before binding`)));
    });
  }

  private async receive(channel: SocketChannel): Promise<void> {
    const socket = this.sockets[channel];
    try {
      for await (const frames of socket as Socket & AsyncIterable<Buffer[]>) {
        try {
          if (channel === "iopub") {
            if (frames[0]?.[0] === 1) this.events.subscribed(frames[0].subarray(1));
          } else this.events.message(channel, frames);
        } catch (e) {
          this.events.log(`dropout-lab: error handling a ${channel} message: ${(e as Error).stack ?? e}`);
        }
      }
    } catch (e) {
      if (!socket.closed) this.events.log(`dropout-lab: ${channel} socket failed: ${(e as Error).message}`);
    }
  }

  send(channel: SocketChannel, frames: Buffer[]): void {
    const socket = this.sockets[channel];
    this.outboxes[channel] = this.outboxes[channel].then(
      () => socket.send(frames),
    ).catch((e: Error) => {
      if (!socket.closed) this.events.log(`dropout-lab: sending on ${channel} failed: ${e.message}`);
    });
  }

  /** Sends what is queued, then closes every socket and ends the heartbeat thread. */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.outboxes));
    for (const s of Object.values(this.sockets)) if (!s.closed) s.close();
    const hb = this.heartbeatWorker;
    this.heartbeatWorker = null;
    if (hb) {
      const exited = new Promise<void>((r) => hb.once("exit", () => r()));
      hb.postMessage("close");
      const timer = setTimeout(() => void hb.terminate(), 1000);
      await exited;
      clearTimeout(timer);
    }
  }
}
