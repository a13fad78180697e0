/**
 * The heartbeat: a REP socket echoing every ping, in its own thread so it answers while the main thread is busy.
 * workerData.endpoint is the address to bind; the parent posts "close" to stop it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Reply } from "zeromq";

const socket = new Reply({ linger: 0 });
parentPort?.on("message", (m) => {
  if (m === "close") socket.close();
});
// The socket alone keeps this thread alive; once it is closed the thread ends.
parentPort?.unref();
try {
  await socket.bind(workerData.endpoint as string);
  parentPort?.postMessage({ bound: true });
  for await (const frames of socket) await socket.send(frames);
} catch (e) {
  if (!socket.closed) parentPort?.postMessage({ error: (e as Error).message });
}
