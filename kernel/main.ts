/** Runs the kernel for one connection file until shutdown_request, SIGTERM or the parent's death. */
import { endChildren } from "./children.js";
import type { ConnectionInfo } from "./connection.js";
import type { Executor } from "./exec/types.js";
import { defaultHistoryPath, HistoryStore } from "./history.js";
import { Kernel, type Outbox } from "./kernel.js";
import { watchParent } from "./parent.js";
import { KernelSockets } from "./sockets.js";
import { Signer } from "./wire.js";

/** When no request has come this long after binding, the executor loads anyway. */
const LOAD_UNASKED_MS = 1000;

const log = (line: string): void => void process.stderr.write(line + "\n");

/** Serves the kernel described by `info` (read from `source`). */
export async function runKernel(info: ConnectionInfo, source: string): Promise<void> {
  if (info.key === "") log(`dropout-lab: WARNING: ${source} has an empty key; messages are not signed (insecure)`);
  // Loading the executor module (the TypeScript compiler) blocks this thread for seconds, so it waits until
  // the first reply on shell or control (a client's kernel_info) is on its way, or until a while after binding
  // when no client has asked; requests that need the executor wait for it.
  let executor: Executor | null = null;
  let wake!: () => void;
  const loading = new Promise<void>((r) => (wake = r)).then(async () => {
    const { createExecutor } = await import("./exec/index.js");
    executor = createExecutor({ cwd: process.cwd(), onBackgroundEvent: (event) => kernel.background(event) });
    return executor;
  });
  let sockets: KernelSockets | null = null;
  let replied = false;
  const outbox: Outbox = {
    send: (channel, frames) => {
      sockets?.send(channel, frames);
      if (!replied && (channel === "shell" || channel === "control")) {
        replied = true;
        setImmediate(wake); // after the reply's and its idle's sends have started
      }
    },
  };

  let stopping = false;
  const stop = async (code: number, why: string): Promise<never> => {
    if (!stopping) {
      stopping = true;
      log(`dropout-lab: shutting down (${why})`);
      const timeout = new Promise((r) => setTimeout(r, 3000).unref());
      await Promise.race([Promise.allSettled([executor?.shutdown(), sockets?.close()]), timeout]);
      const children = await endChildren();
      if (children.length) log(`dropout-lab: ended child processes ${children.join(", ")}`);
    }
    process.exit(code);
  };

  const kernel = new Kernel({
    executor: loading,
    outbox,
    signer: new Signer(info.key),
    history: new HistoryStore(defaultHistoryPath(), log),
    log,
    onShutdown: (restart) => void stop(0, restart ? "shutdown_request, restart" : "shutdown_request"),
  });
  process.on("SIGINT", () => kernel.interrupt());
  process.on("SIGTERM", () => void stop(0, "SIGTERM"));
  const ready = kernel.start();
  sockets = await KernelSockets.bind(info, {
    message: (channel, frames) => kernel.receive(channel, frames),
    subscribed: (topic) => kernel.subscribed(topic),
    log,
  });
  setTimeout(wake, LOAD_UNASKED_MS).unref();
  watchParent((why) => void stop(0, why));
  try {
    await sockets.heartbeat;
  } catch (e) {
    log(`dropout-lab: ${(e as Error).message}`);
    await stop(1, "the heartbeat could not bind");
  }
  try {
    await ready;
  } catch (e) {
    log(`dropout-lab: the executor failed to start: ${(e as Error).stack ?? e}`);
    await stop(1, "executor failed to start");
  }
}
