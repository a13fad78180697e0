/** Runs the kernel for one connection file until shutdown_request, SIGTERM or the parent's death. */
import { endChildren } from "./children.js";
import type { ConnectionInfo } from "./connection.js";
import { ProcessExecutor } from "./exec/process.js";
import { defaultHistoryPath, HistoryStore } from "./history.js";
import { Kernel, type Outbox } from "./kernel.js";
import { watchParent } from "./parent.js";
import { KernelSockets } from "./sockets.js";
import { Signer } from "./wire.js";

/** Environment variable: the evaluator's JavaScript heap limit in MiB (default: 75% of the machine's memory). */
export const HEAP_ENV = "DROPOUT_LAB_EVALUATOR_HEAP_MB";

const log = (line: string): void => void process.stderr.write(line + "\n");

/** Serves the kernel described by `info` (read from `source`). */
export async function runKernel(info: ConnectionInfo, source: string): Promise<void> {
  if (info.key === "") log(`dropout-lab: WARNING: ${source} has an empty key; messages are not signed (insecure)`);
  // The evaluator runs in its own process (exec/process.ts), so loading the compiler there never blocks
  // this thread, and a cell that takes that process down does not take the kernel with it.
  const heap = process.env[HEAP_ENV];
  let maxHeapMb: number | undefined;
  if (heap && /^[1-9]\d*$/.test(heap)) maxHeapMb = Number(heap);
  else if (heap) log(`dropout-lab: ignoring ${HEAP_ENV}=${JSON.stringify(heap)}: not a positive whole number of MiB`);
  const executor: ProcessExecutor = new ProcessExecutor({
    cwd: process.cwd(),
    maxHeapMb,
    log,
    onBackgroundEvent: (event) => kernel.background(event),
  });
  let sockets: KernelSockets | null = null;
  const outbox: Outbox = { send: (channel, frames) => sockets?.send(channel, frames) };

  let stopping = false;
  const stop = async (code: number, why: string): Promise<never> => {
    if (!stopping) {
      stopping = true;
      log(`dropout-lab: shutting down (${why})`);
      const timeout = new Promise((r) => setTimeout(r, 3000).unref());
      await Promise.race([Promise.allSettled([executor.shutdown(), sockets?.close()]), timeout]);
      const children = await endChildren();
      if (children.length) log(`dropout-lab: ended child processes ${children.join(", ")}`);
    }
    process.exit(code);
  };

  const kernel = new Kernel({
    executor,
    outbox,
    signer: new Signer(info.key),
    history: new HistoryStore(defaultHistoryPath(), log),
    log,
    onShutdown: (restart) => void stop(0, restart ? "shutdown_request, restart" : "shutdown_request"),
  });
  process.on("SIGINT", () => kernel.interrupt());
  process.on("SIGTERM", () => void stop(0, "SIGTERM"));
  const ready = kernel.start().catch(async (e: Error) => {
    if (stopping) return; // shut down while the evaluator was still starting
    log(`dropout-lab: the executor failed to start: ${e.stack ?? e}`);
    await stop(1, "executor failed to start");
  });
  sockets = await KernelSockets.bind(info, {
    message: (channel, frames) => kernel.receive(channel, frames),
    subscribed: (topic) => kernel.subscribed(topic),
    log,
  });
  watchParent((why) => void stop(0, why));
  try {
    await sockets.heartbeat;
  } catch (e) {
    log(`dropout-lab: ${(e as Error).message}`);
    await stop(1, "the heartbeat could not bind");
  }
  await ready;
}
