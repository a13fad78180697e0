/**
 * End to end through a real Jupyter server (Debian's jupyter-server) and @jupyterlab/services, as JupyterLab
 * talks to kernels: the server runs on loopback with a random token and finds the kernelspec through
 * JUPYTER_PATH; Node 20 has no global WebSocket, so the `ws` package (a dependency of @jupyterlab/services)
 * is handed to ServerConnection.makeSettings.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Kernel, KernelManager, type KernelMessage, ServerConnection, SessionManager } from "@jupyterlab/services";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, freePort } from "../../kernel/client.js";

let server: ChildProcess;
let serverLog = "";
let settings: ServerConnection.ISettings;
let kernelManager: KernelManager;
let sessionManager: SessionManager;

async function waitForServer(url: string, token: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`${url}api/status`, { headers: { Authorization: `token ${token}` } });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null) throw new Error(`jupyter server exited:\n${serverLog}`);
    if (Date.now() > end) throw new Error(`jupyter server did not come up:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  const home = mkdtempSync(join(tmpdir(), "dl-e2e-"));
  const install = spawnSync(process.execPath, [CLI, "install", "--prefix", home], { encoding: "utf8" });
  expect(install.status, install.stderr).toBe(0);
  const notebooks = join(home, "notebooks");
  mkdirSync(notebooks);
  const token = randomBytes(24).toString("hex");
  const port = await freePort();
  server = spawn(
    "/usr/bin/jupyter",
    ["server", "--allow-root", `--ServerApp.token=${token}`, `--port=${port}`, "--no-browser", "--ServerApp.ip=127.0.0.1", `--ServerApp.root_dir=${notebooks}`],
    {
      env: {
        ...process.env,
        JUPYTER_PATH: join(home, "share", "jupyter"),
        JUPYTER_DATA_DIR: join(home, "data"),
        JUPYTER_RUNTIME_DIR: join(home, "runtime"),
        JUPYTER_CONFIG_DIR: join(home, "config"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  server.stdout!.on("data", (d) => (serverLog += d));
  server.stderr!.on("data", (d) => (serverLog += d));
  const baseUrl = `http://127.0.0.1:${port}/`;
  await waitForServer(baseUrl, token);
  settings = ServerConnection.makeSettings({
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/`,
    token,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    fetch: globalThis.fetch,
    Request: globalThis.Request,
    Headers: globalThis.Headers,
  });
  kernelManager = new KernelManager({ serverSettings: settings });
  sessionManager = new SessionManager({ kernelManager, serverSettings: settings });
  await kernelManager.ready;
  await sessionManager.ready;
}, 120_000);

afterAll(async () => {
  sessionManager?.dispose();
  kernelManager?.dispose();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
});

interface Run {
  reply: KernelMessage.IExecuteReplyMsg;
  iopub: KernelMessage.IIOPubMessage[];
}

/** Runs a cell; `onInput` answers input requests. */
async function run(kernel: Kernel.IKernelConnection, code: string, onInput?: (prompt: string) => string): Promise<Run> {
  const iopub: KernelMessage.IIOPubMessage[] = [];
  const future = kernel.requestExecute({ code, allow_stdin: onInput !== undefined, stop_on_error: false });
  future.onIOPub = (m) => void iopub.push(m);
  if (onInput) {
    future.onStdin = (m) => {
      if (m.header.msg_type === "input_request") {
        const prompt = (m.content as KernelMessage.IInputRequestMsg["content"]).prompt;
        future.sendInputReply({ status: "ok", value: onInput(prompt) }, m.header as KernelMessage.IHeader<"input_request">);
      }
    };
  }
  const reply = (await future.done) as KernelMessage.IExecuteReplyMsg;
  return { reply, iopub };
}

const text = (r: Run, type: string) =>
  r.iopub.filter((m) => m.header.msg_type === type).map((m) => JSON.stringify(m.content));

describe("through jupyter server", () => {
  it("starts the kernel in a session, runs cells, displays, reads stdin, interrupts, restarts and shuts down", { timeout: 180_000 }, async () => {
    const specs = await fetch(`${settings.baseUrl}api/kernelspecs`, { headers: { Authorization: `token ${settings.token}` } });
    expect(Object.keys(((await specs.json()) as { kernelspecs: object }).kernelspecs)).toContain("dropout-lab");

    const session = await sessionManager.startNew({ path: "e2e.ipynb", type: "notebook", name: "e2e.ipynb", kernel: { name: "dropout-lab" } });
    const kernel = session.kernel!;
    try {
      const info = await kernel.info;
      expect(info.implementation).toBe("dropout-lab");
      expect(info.language_info.name).toBe("typescript");

      const a = await run(kernel, "let total = 0;\nfor (let i = 1; i <= 10; i++) total += i;\ntotal");
      expect(a.reply.content.status).toBe("ok");
      const result = a.iopub.find((m) => m.header.msg_type === "execute_result")!;
      expect((result.content as KernelMessage.IExecuteResultMsg["content"]).data["text/plain"]).toBe("55");
      // every iopub message of the request is its child, ending with idle
      expect(a.iopub.every((m) => m.parent_header && (m.parent_header as KernelMessage.IHeader).msg_id === a.reply.parent_header.msg_id)).toBe(true);
      expect(a.iopub.at(-1)!.header.msg_type).toBe("status");

      const d = await run(kernel, 'display(html`<i>rich</i>`);\nconsole.log("after display")');
      expect(d.reply.content.status).toBe("ok");
      const shown = d.iopub.find((m) => m.header.msg_type === "display_data")!;
      expect((shown.content as KernelMessage.IDisplayDataMsg["content"]).data["text/html"]).toBe("<i>rich</i>");
      expect(text(d, "stream").join("")).toContain("after display");

      const prompts: string[] = [];
      const s = await run(kernel, 'const who = await input("name? ");\nconsole.log(`hello ${who}`)', (p) => {
        prompts.push(p);
        return "Ada";
      });
      expect(s.reply.content.status).toBe("ok");
      expect(prompts).toEqual(["name? "]);
      expect(text(s, "stream").join("")).toContain("hello Ada");

      // interrupt (the server sends SIGINT: interrupt_mode signal) stops a busy loop; state survives
      const looping = run(kernel, "while (true) {}");
      await new Promise((r) => setTimeout(r, 1500));
      await kernel.interrupt();
      const stopped = await looping;
      expect(stopped.reply.content.status).toBe("error");
      const after = await run(kernel, "total * 2");
      expect(text(after, "execute_result").join("")).toContain('"text/plain":"110"');

      // restart: a fresh kernel process, earlier variables are gone
      await kernel.restart();
      await kernel.info;
      const fresh = await run(kernel, "total");
      expect(fresh.reply.content).toMatchObject({ status: "error", execution_count: 1 });
      expect((fresh.reply.content as KernelMessage.IReplyErrorContent).evalue).toContain("Cannot find name 'total'");
    } finally {
      await session.shutdown();
    }
    await kernelManager.refreshRunning();
    expect([...kernelManager.running()]).toEqual([]);
  });
});
