/**
 * The built kernel with the real executor over real sockets: both interrupts keep state, stdin, comms,
 * heartbeats during a long synchronous cell, no output after idle over many cells, and the parent watch.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode, type Message } from "../../kernel/wire.js";
import { KernelClient } from "../../kernel/client.js";

const resultText = (msgs: Message[]) =>
  msgs.filter((m) => m.header.msg_type === "execute_result").map((m) => (m.content.data as Record<string, string>)["text/plain"]);

describe("kernel behaviour", () => {
  let k: KernelClient;
  beforeAll(async () => {
    k = await KernelClient.start();
    await k.ready();
    const [reply] = await k.request("shell", "execute_request", { code: "let kept = 41;\nkept += 1;" }, 60_000);
    expect(reply.content.status).toBe("ok");
  }, 90_000);
  afterAll(async () => {
    await k?.close();
  });

  async function interruptedLoop(interrupt: () => Promise<void> | void): Promise<Message> {
    const id = await k.send("shell", "execute_request", { code: "while (true) {}" });
    await k.inbox.iopub.next((m) => (m.parentHeader as { msg_id?: string }).msg_id === id && m.header.msg_type === "execute_input");
    await new Promise((r) => setTimeout(r, 300));
    await interrupt();
    const reply = await k.reply("shell", id, 15_000);
    await k.iopubUntilIdle(id);
    return reply;
  }

  it("stops a busy loop on interrupt_request, and state survives", async () => {
    const reply = await interruptedLoop(async () => {
      const [r] = await k.request("control", "interrupt_request");
      expect(r.content).toEqual({ status: "ok" });
    });
    expect(reply.content.status).toBe("error");
    const [, iopub] = await k.request("shell", "execute_request", { code: "kept" });
    expect(resultText(iopub)).toEqual(["42"]);
  });

  it("stops a busy loop on SIGINT, and state survives", async () => {
    const reply = await interruptedLoop(() => void k.child.kill("SIGINT"));
    expect(reply.content.status).toBe("error");
    const [, iopub] = await k.request("shell", "execute_request", { code: "kept + 1" });
    expect(resultText(iopub)).toEqual(["43"]);
  });

  it("aborts only the cells queued behind a failed one; later cells run", async () => {
    const fail = await k.send("shell", "execute_request", { code: 'await new Promise((r) => setTimeout(r, 500));\nthrow new Error("stop here")' });
    const queued = await k.send("shell", "execute_request", { code: "kept = 0" });
    const failed = await k.reply("shell", fail, 20_000);
    expect(failed.content).toMatchObject({ status: "error", evalue: "stop here" });
    expect((await k.reply("shell", queued)).content.status).toBe("aborted");
    const [later, iopub] = await k.request("shell", "execute_request", { code: "kept" });
    expect(later.content.status).toBe("ok");
    expect(resultText(iopub)).toEqual(["42"]);
  });

  it("asks for input on stdin and resumes the cell with the reply", async () => {
    const id = await k.send("shell", "execute_request", {
      code: 'const answer = await input("your name: ");\nconsole.log(`hi ${answer}`);',
      allow_stdin: true,
    });
    const request = await k.inbox.stdin.next((m) => m.header.msg_type === "input_request");
    expect(request.content).toMatchObject({ prompt: "your name: ", password: false });
    expect((request.parentHeader as { msg_id: string }).msg_id).toBe(id);
    const reply = k.message("input_reply", { value: "Grace" });
    reply.parentHeader = request.header;
    await k.sendFrames("stdin", encode(reply, k.signer));
    expect((await k.reply("shell", id)).content.status).toBe("ok");
    const iopub = await k.iopubUntilIdle(id);
    const out = iopub.filter((m) => m.header.msg_type === "stream").map((m) => m.content.text).join("");
    expect(out).toBe("hi Grace\n");
  });

  it("routes comms opened by the front end to a target a cell registered", async () => {
    const [reg] = await k.request("shell", "execute_request", {
      code: 'comms.registerTarget("echo", (comm, data) => {\n  comm.send({ opened: data });\n  comm.onMsg((d) => comm.send({ echo: d }));\n});',
    });
    expect(reg.content.status).toBe("ok");
    const openId = await k.send("shell", "comm_open", { comm_id: "comm-1", target_name: "echo", data: { x: 1 } });
    const opening = await k.iopubUntilIdle(openId);
    expect(opening.map((m) => [m.header.msg_type, m.content])).toEqual([
      ["status", { execution_state: "busy" }],
      ["comm_msg", { comm_id: "comm-1", data: { opened: { x: 1 } } }],
      ["status", { execution_state: "idle" }],
    ]);
    const [info] = await k.request("shell", "comm_info_request", { target_name: "echo" });
    expect(info.content).toEqual({ status: "ok", comms: { "comm-1": { target_name: "echo" } } });
    const msgId = await k.send("shell", "comm_msg", { comm_id: "comm-1", data: { ping: 7 } });
    const echo = await k.iopubUntilIdle(msgId);
    expect(echo.map((m) => [m.header.msg_type, m.content])).toEqual([
      ["status", { execution_state: "busy" }],
      ["comm_msg", { comm_id: "comm-1", data: { echo: { ping: 7 } } }],
      ["status", { execution_state: "idle" }],
    ]);
  });

  it("answers heartbeats while a synchronous cell runs for seconds", async () => {
    const id = await k.send("shell", "execute_request", { code: "const t0 = Date.now();\nwhile (Date.now() - t0 < 3000) {}" });
    await k.inbox.iopub.next((m) => (m.parentHeader as { msg_id?: string }).msg_id === id && m.header.msg_type === "execute_input");
    for (let i = 0; i < 3; i++) {
      const echo = await k.ping(Buffer.from(`beat ${i}`), 1000);
      expect(echo.toString()).toBe(`beat ${i}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect((await k.reply("shell", id, 15_000)).content.status).toBe("ok");
    await k.iopubUntilIdle(id);
  });

  it("publishes nothing for a request after its idle, over 1,000 cells", { timeout: 180_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) ids.push(await k.send("shell", "execute_request", { code: `console.log(${i}); ${i}` }));
    const idleAt = new Map<string, number>();
    let late = 0;
    let seen = 0;
    const last = ids[ids.length - 1];
    for (;;) {
      const m = await k.inbox.iopub.next(() => true, 60_000, "iopub of the 1,000 cells");
      const parent = (m.parentHeader as { msg_id?: string }).msg_id;
      if (!parent || !ids.includes(parent)) continue;
      seen++;
      if (idleAt.has(parent)) late++;
      if (m.header.msg_type === "status" && m.content.execution_state === "idle") idleAt.set(parent, seen);
      if (idleAt.has(last)) break;
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const m of k.inbox.iopub.drain()) if (idleAt.has((m.parentHeader as { msg_id?: string }).msg_id ?? "")) late++;
    expect(idleAt.size).toBe(1000);
    expect(late).toBe(0);
    expect(seen).toBe(1000 * 5); // busy, execute_input, stream, execute_result, idle
  });
});

describe("parent watch", () => {
  it("exits when the process named by JPY_PARENT_PID goes away", async () => {
    const parent = spawn("sleep", ["600"]);
    const k = await KernelClient.start({ env: { JPY_PARENT_PID: String(parent.pid) } });
    try {
      await k.ready();
      parent.kill("SIGKILL");
      const code = await Promise.race([k.exit(), new Promise((r) => setTimeout(() => r("still running"), 15_000))]);
      expect(code).toBe(0);
      expect(k.stderr.join("")).toMatch(/parent process \d+ is gone/);
    } finally {
      await k.close();
    }
  });
});
