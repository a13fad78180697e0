/**
 * Restart and shutdown: history survives a restart; shutdown leaves no kernel process, evaluator process,
 * thread or child process behind; a killed kernel's evaluator process ends; a kernel whose parent was killed
 * exits, with its evaluator, even while a cell spins.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { CLI, connectionInfo, KernelClient } from "../../kernel/client.js";
import { writeConnectionFile } from "../../kernel/connection.js";
import { encode, Session, Signer } from "../../kernel/wire.js";
import { alive, childrenOf, run, threadCount, waitFor } from "./util.js";

describe("lifecycle", () => {
  it("history survives a restart", async () => {
    const data = mkdtempSync(join(tmpdir(), "dl-data-"));
    const first = await KernelClient.start({ env: { JUPYTER_DATA_DIR: data } });
    try {
      await first.ready(60_000);
      await run(first, "const remembered = 'across restarts'; remembered");
      const [reply] = await first.request("control", "shutdown_request", { restart: true }, 30_000);
      expect(reply.content).toMatchObject({ status: "ok", restart: true });
      expect(await first.exit()).toBe(0);
    } finally {
      await first.close();
    }
    const second = await KernelClient.start({ env: { JUPYTER_DATA_DIR: data } });
    try {
      await second.ready(60_000);
      const [reply] = await second.request("shell", "history_request", { hist_access_type: "tail", n: 10, output: false, raw: true }, 30_000);
      const sources = (reply.content.history as [number, number, string][]).map((row) => row[2]);
      expect(sources).toContain("const remembered = 'across restarts'; remembered");
    } finally {
      await second.close();
    }
  }, 240_000);

  it("shutdown leaves no process, thread or child process behind", async () => {
    const k = await KernelClient.start();
    try {
      await k.ready(60_000);
      const pid = k.child.pid!;
      const c = await run(k, 'const { spawn } = require("node:child_process"); const child = spawn("sleep", ["300"], { stdio: "ignore" }); [child.pid, process.pid]');
      const [sleeper, evaluator] = JSON.parse(c.result!) as [number, number];
      // the kernel's one child is the evaluator process; the cell's child is the evaluator's
      expect(childrenOf(pid)).toEqual([evaluator]);
      expect(childrenOf(evaluator)).toContain(sleeper);
      expect(threadCount(pid)).toBeGreaterThan(1); // main, heartbeat (and V8's own)
      expect(threadCount(evaluator)).toBeGreaterThan(2); // main, evaluator (and V8's own)
      const [reply] = await k.request("control", "shutdown_request", { restart: false }, 30_000);
      expect(reply.content.status).toBe("ok");
      expect(await k.exit()).toBe(0);
      expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
      expect(await waitFor(() => !alive(evaluator), 5000), `the evaluator ${evaluator} outlived the kernel`).toBe(true);
      expect(await waitFor(() => !alive(sleeper), 5000), `child ${sleeper} of the kernel outlived it`).toBe(true);
      console.log(`lifecycle: shutdown ended the kernel (pid ${pid}), its evaluator process (pid ${evaluator}) and the cell's child process (pid ${sleeper})`);
    } finally {
      await k.close();
    }
  }, 240_000);

  it("a kernel killed outright does not leave its evaluator process behind", async () => {
    const k = await KernelClient.start();
    try {
      await k.ready(60_000);
      const evaluator = Number((await run(k, "process.pid")).result);
      expect(childrenOf(k.child.pid!)).toEqual([evaluator]);
      k.child.kill("SIGKILL");
      const t0 = Date.now();
      expect(await waitFor(() => !alive(evaluator), 10_000), `the evaluator ${evaluator} outlived its killed kernel`).toBe(true);
      console.log(`lifecycle: the evaluator process exited ${Date.now() - t0} ms after its kernel was killed`);
    } finally {
      await k.close();
    }
  }, 240_000);

  it("exits when its parent is killed, even while a cell spins", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dl-orphan-"));
    const info = await connectionInfo();
    const file = join(dir, "connection.json");
    writeConnectionFile(file, info);
    const marker = join(dir, "spinning");
    const parentScript = `const c = require("node:child_process").spawn(process.execPath, ${JSON.stringify([CLI, "kernel", "-f", file])}, { stdio: ["ignore", "ignore", "inherit"] }); console.log(c.pid); setInterval(() => {}, 1e6);`;
    const parent = spawn(process.execPath, ["-e", parentScript], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, JUPYTER_DATA_DIR: join(dir, "data"), JPY_PARENT_PID: "" } });
    const kernelPid = await new Promise<number>((res) => parent.stdout!.once("data", (d: Buffer) => res(Number(d.toString().trim()))));
    const shell = new Dealer({ linger: 0 });
    shell.connect(`tcp://${info.ip}:${info.shell_port}`);
    let evaluators: number[] = [];
    try {
      const session = new Session("tester");
      const m = session.message("execute_request", { code: `require("node:fs").writeFileSync(${JSON.stringify(marker)}, ""); while (true) {}`, stop_on_error: false }, undefined, []);
      await shell.send(encode(m, new Signer(info.key)));
      expect(await waitFor(() => existsSync(marker), 90_000), "the spinning cell never started").toBe(true);
      evaluators = childrenOf(kernelPid);
      expect(evaluators).toHaveLength(1);
      parent.kill("SIGKILL");
      const t0 = Date.now();
      expect(await waitFor(() => !alive(kernelPid), 10_000), "the orphaned kernel kept running").toBe(true);
      expect(await waitFor(() => !alive(evaluators[0]!), 5000), "the orphaned kernel's evaluator kept running").toBe(true);
      console.log(`lifecycle: orphaned kernel (spinning cell) exited ${Date.now() - t0} ms after its parent was killed`);
    } finally {
      shell.close();
      for (const pid of [kernelPid, ...evaluators]) if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  }, 240_000);
});
