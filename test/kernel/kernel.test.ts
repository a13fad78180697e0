import { appendFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HistoryStore } from "../../kernel/history.js";
import { encode } from "../../kernel/wire.js";
import { gate, Harness, until } from "./harness.js";

describe("dispatch", () => {
  it("answers kernel_info between busy and idle, everything parented to the request", async () => {
    const h = new Harness();
    const id = h.send("shell", "kernel_info_request");
    await h.idle(id);
    const children = h.childrenOf(id);
    expect(children.map((s) => `${s.channel}:${s.message.header.msg_type}`)).toEqual([
      "iopub:status",
      "shell:kernel_info_reply",
      "iopub:status",
    ]);
    const reply = h.reply(id)!.message;
    expect(reply.identities.map(String)).toEqual(["client-1"]);
    expect(reply.header.version).toBe("5.3");
    const c = reply.content as Record<string, any>;
    expect(c.status).toBe("ok");
    expect(c.protocol_version).toBe("5.3");
    expect(c.implementation).toBe("dropout-lab");
    expect(c.language_info).toMatchObject({
      name: "typescript",
      mimetype: "text/typescript",
      file_extension: ".ts",
      codemirror_mode: "typescript",
      pygments_lexer: "typescript",
    });
    expect(c.language_info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(c.banner).toContain("TypeScript");
    expect(c.help_links.length).toBeGreaterThan(0);
    // iopub topics name the kernel session and the message type
    const status = children[0].message;
    expect(String(status.identities[0])).toBe(`kernel.${h.kernel.session.id}.status`);
  });

  it("publishes status starting and starts the executor", async () => {
    const h = new Harness();
    expect(h.starting.map((s) => [s.message.header.msg_type, s.message.content])).toEqual([["status", { execution_state: "starting" }]]);
    await until(() => h.executor.started);
  });

  it("logs an unknown message type and still publishes busy and idle", async () => {
    const h = new Harness();
    const id = h.send("shell", "no_such_request");
    await h.idle(id);
    expect(h.iopubTypes(id)).toEqual(["status:busy", "status:idle"]);
    expect(h.reply(id)).toBeUndefined();
    expect(h.logs.join("\n")).toContain("unknown message type");
  });

  it("greets a new iopub subscriber with iopub_welcome", () => {
    const h = new Harness();
    h.kernel.subscribed(Buffer.from(""));
    h.kernel.subscribed(Buffer.from("kernel."));
    const welcomes = h.sent.filter((s) => s.message.header.msg_type === "iopub_welcome");
    expect(welcomes.map((s) => s.message.content)).toEqual([{ subscription: "" }, { subscription: "kernel." }]);
    expect(welcomes.map((s) => String(s.message.identities[0]))).toEqual(["", "kernel."]);
    expect(welcomes.every((s) => s.channel === "iopub")).toBe(true);
  });
});

describe("execute", () => {
  it("publishes execute_input, the cell's events in order, execute_result, then idle", async () => {
    const h = new Harness();
    h.executor.script = async (code, o) => {
      o.onEvent({ type: "stream", name: "stdout", text: "hi\n" });
      o.onEvent({ type: "display", data: { "text/plain": "d" }, metadata: {}, displayId: "x" });
      o.onEvent({ type: "display", data: { "text/plain": "d2" }, metadata: {}, displayId: "x", update: true });
      o.onEvent({ type: "clear_output", wait: true });
      o.onEvent({ type: "stream", name: "stderr", text: "warn\n" });
      return { status: "ok", result: { data: { "text/plain": "42" }, metadata: {} } };
    };
    const id = h.send("shell", "execute_request", { code: "x", silent: false, store_history: true, user_expressions: {}, allow_stdin: false });
    await h.idle(id);
    expect(h.iopubTypes(id)).toEqual([
      "status:busy",
      "execute_input",
      "stream",
      "display_data",
      "update_display_data",
      "clear_output",
      "stream",
      "execute_result",
      "status:idle",
    ]);
    const msgs = h.childrenOf(id).map((s) => s.message);
    expect(msgs[1].content).toEqual({ code: "x", execution_count: 1 });
    expect(msgs[3].content).toEqual({ data: { "text/plain": "d" }, metadata: {}, transient: { display_id: "x" } });
    expect(msgs[4].content.transient).toEqual({ display_id: "x" });
    expect(msgs[5].content).toEqual({ wait: true });
    expect(msgs[7].content).toEqual({ execution_count: 1, data: { "text/plain": "42" }, metadata: {} });
    expect(h.reply(id)!.message.content).toEqual({ status: "ok", execution_count: 1, payload: [], user_expressions: {} });
    // the reply precedes idle
    const order = h.childrenOf(id).map((s) => s.message.header.msg_type);
    expect(order.indexOf("execute_reply")).toBeLessThan(order.lastIndexOf("status"));
  });

  it("counts executions; silent and store_history=false do not increment, silent publishes no input or result", async () => {
    const h = new Harness();
    const a = h.send("shell", "execute_request", { code: "a" });
    const b = h.send("shell", "execute_request", { code: "b", silent: true });
    const c = h.send("shell", "execute_request", { code: "c", store_history: false });
    const d = h.send("shell", "execute_request", { code: "d" });
    await h.idle(d);
    const counts = [a, b, c, d].map((id) => h.reply(id)!.message.content.execution_count);
    expect(counts).toEqual([1, 1, 1, 2]);
    expect(h.iopubTypes(b)).toEqual(["status:busy", "status:idle"]);
    expect(h.iopubTypes(c)).toEqual(["status:busy", "execute_input", "execute_result", "status:idle"]);
    const options = h.executor.calls.filter((x) => x.method === "execute").map((x) => x.args[1] as Record<string, unknown>);
    expect(options.map((o) => [o.silent, o.storeHistory, o.executionCount])).toEqual([
      [false, true, 1],
      [true, false, 1],
      [false, false, 1],
      [false, true, 2],
    ]);
  });

  it("runs execute requests one at a time, in arrival order", async () => {
    const h = new Harness();
    const hold = gate();
    const started: string[] = [];
    h.executor.script = async (code) => {
      started.push(code);
      if (code === "first") await hold.promise;
      return { status: "ok" };
    };
    const first = h.send("shell", "execute_request", { code: "first" });
    const second = h.send("shell", "execute_request", { code: "second" });
    await until(() => started.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toEqual(["first"]);
    hold.open();
    await h.idle(second);
    expect(started).toEqual(["first", "second"]);
    const firstIdle = h.sent.findIndex((s) => s.message.content.execution_state === "idle" && (s.message.parentHeader as any).msg_id === first);
    const secondBusy = h.sent.findIndex((s) => s.message.content.execution_state === "busy" && (s.message.parentHeader as any).msg_id === second);
    expect(firstIdle).toBeLessThan(secondBusy);
  });

  it("reports an error on iopub and in the reply", async () => {
    const h = new Harness();
    h.executor.script = async () => ({ status: "error", ename: "TypeError", evalue: "bad", traceback: ["TypeError: bad", "    at cell 1:3"] });
    const id = h.send("shell", "execute_request", { code: "boom" });
    await h.idle(id);
    expect(h.iopubTypes(id)).toEqual(["status:busy", "execute_input", "error", "status:idle"]);
    expect(h.reply(id)!.message.content).toEqual({
      status: "error",
      execution_count: 1,
      ename: "TypeError",
      evalue: "bad",
      traceback: ["TypeError: bad", "    at cell 1:3"],
    });
  });

  it("stop_on_error aborts the requests queued behind a failed cell, not later ones", async () => {
    const h = new Harness();
    const hold = gate();
    const ran: string[] = [];
    h.executor.script = async (code) => {
      ran.push(code);
      if (code === "fail") {
        await hold.promise;
        return { status: "error", ename: "Error", evalue: "x", traceback: [] };
      }
      return { status: "ok" };
    };
    const fail = h.send("shell", "execute_request", { code: "fail" });
    const queued1 = h.send("shell", "execute_request", { code: "queued1" });
    const info = h.send("shell", "kernel_info_request");
    const queued2 = h.send("shell", "execute_request", { code: "queued2" });
    await until(() => ran.length === 1);
    hold.open();
    await h.idle(queued2);
    const later = h.send("shell", "execute_request", { code: "later" });
    await h.idle(later);
    expect(ran).toEqual(["fail", "later"]);
    expect(h.reply(fail)!.message.content.status).toBe("error");
    for (const id of [queued1, queued2]) {
      expect(h.reply(id)!.message.content).toEqual({ status: "aborted", execution_count: 1 });
      expect(h.iopubTypes(id)).toEqual(["status:busy", "status:idle"]);
    }
    expect(h.reply(info)!.message.content.status).toBe("ok");
    expect(h.reply(later)!.message.content).toMatchObject({ status: "ok", execution_count: 2 });
  });

  it("stop_on_error=false lets the queued requests run", async () => {
    const h = new Harness();
    h.executor.script = async (code) =>
      code === "fail" ? { status: "error", ename: "Error", evalue: "x", traceback: [] } : { status: "ok" };
    h.send("shell", "execute_request", { code: "fail", stop_on_error: false });
    const next = h.send("shell", "execute_request", { code: "next" });
    await h.idle(next);
    expect(h.reply(next)!.message.content.status).toBe("ok");
  });

  it("evaluates user_expressions after a successful cell and returns pager payloads", async () => {
    const h = new Harness();
    h.executor.script = async () => ({ status: "ok", payload: [{ source: "page", data: { "text/plain": "help text" }, start: 0 }] });
    const id = h.send("shell", "execute_request", { code: "help(x)", user_expressions: { a: "1+1" } });
    await h.idle(id);
    const c = h.reply(id)!.message.content;
    expect(c.payload).toEqual([{ source: "page", data: { "text/plain": "help text" }, start: 0 }]);
    expect(c.user_expressions).toEqual({ a: { status: "ok", data: { "text/plain": "<1+1>" }, metadata: {} } });
  });

  it("publishes nothing for a request after its idle", async () => {
    const h = new Harness();
    let late: ((e: any) => void) | undefined;
    h.executor.script = async (_code, o) => {
      late = o.onEvent;
      return { status: "ok" };
    };
    const id = h.send("shell", "execute_request", { code: "x" });
    await h.idle(id);
    const before = h.sent.length;
    late!({ type: "stream", name: "stdout", text: "too late" });
    expect(h.sent.length).toBe(before);
    expect(h.logs.join("\n")).toContain("after its request ended");
  });

  it("holds background output for the next cell and sends background comm messages unparented", async () => {
    const h = new Harness();
    h.kernel.background({ type: "stream", name: "stderr", text: "late timer error\n" });
    h.kernel.background({ type: "comm_msg", commId: "c9", data: { tick: 1 }, metadata: {} });
    expect(h.sent.map((s) => [s.message.header.msg_type, s.message.parentHeader])).toEqual([["comm_msg", {}]]);
    const id = h.send("shell", "execute_request", { code: "next" });
    await h.idle(id);
    expect(h.iopubTypes(id)).toEqual(["status:busy", "execute_input", "stream", "execute_result", "status:idle"]);
    expect(h.childrenOf(id)[2].message.content).toEqual({ name: "stderr", text: "late timer error\n" });
  });

  it("sends input_request on stdin to the requester and resumes the cell with the input_reply", async () => {
    const h = new Harness();
    h.executor.script = async (_code, o) => {
      const name = await o.onInputRequest("name? ", false);
      o.onEvent({ type: "stream", name: "stdout", text: `hello ${name}` });
      return { status: "ok" };
    };
    const id = h.send("shell", "execute_request", { code: "input()", allow_stdin: true });
    await until(() => h.sent.some((s) => s.channel === "stdin"));
    const request = h.sent.find((s) => s.channel === "stdin")!.message;
    expect(request.header.msg_type).toBe("input_request");
    expect(request.content).toEqual({ prompt: "name? ", password: false });
    expect(request.identities.map(String)).toEqual(["client-1"]);
    expect((request.parentHeader as any).msg_id).toBe(id);
    h.send("stdin", "input_reply", { value: "Ada" });
    await h.idle(id);
    const stream = h.childrenOf(id).find((s) => s.message.header.msg_type === "stream")!;
    expect(stream.message.content.text).toBe("hello Ada");
  });

  it("refuses input when allow_stdin is false, and interrupt cancels a pending input", async () => {
    const h = new Harness();
    const errors: string[] = [];
    h.executor.script = async (_code, o) => {
      try {
        await o.onInputRequest("? ", false);
      } catch (e) {
        errors.push((e as Error).message);
      }
      return { status: "ok" };
    };
    const a = h.send("shell", "execute_request", { code: "a", allow_stdin: false });
    await h.idle(a);
    expect(errors[0]).toMatch(/allow_stdin/);
    const b = h.send("shell", "execute_request", { code: "b", allow_stdin: true });
    await until(() => h.sent.some((s) => s.channel === "stdin"));
    h.kernel.interrupt();
    await h.idle(b);
    expect(errors[1]).toMatch(/interrupted/);
    expect(h.executor.interrupts).toBe(1);
  });
});

describe("control", () => {
  it("answers control requests and interrupts while a cell runs", async () => {
    const h = new Harness();
    const hold = gate();
    h.executor.script = async () => {
      await hold.promise;
      return { status: "ok" };
    };
    const cell = h.send("shell", "execute_request", { code: "while(true){}" });
    await until(() => h.executor.calls.length === 1);
    const info = h.send("control", "kernel_info_request");
    await h.idle(info);
    expect(h.reply(info)!.channel).toBe("control");
    const intr = h.send("control", "interrupt_request");
    await h.idle(intr);
    expect(h.reply(intr)!.message.content).toEqual({ status: "ok" });
    expect(h.executor.interrupts).toBe(1);
    expect(h.iopubTypes(cell)).not.toContain("status:idle");
    hold.open();
    await h.idle(cell);
  });

  it("shuts down after answering, with the restart flag", async () => {
    const h = new Harness();
    const id = h.send("control", "shutdown_request", { restart: true });
    await h.idle(id);
    expect(h.reply(id)!.message.content).toEqual({ status: "ok", restart: true });
    expect(h.reply(id)!.channel).toBe("control");
    expect(h.iopubTypes(id)).toEqual(["status:busy", "shutdown_reply", "status:idle"]);
    expect(h.shutdowns).toEqual([true]);
    // no request is served after shutdown
    const late = h.send("shell", "kernel_info_request");
    await new Promise((r) => setTimeout(r, 20));
    expect(h.childrenOf(late)).toEqual([]);
  });
});

describe("introspection and comms", () => {
  it("routes complete, inspect and is_complete to the executor", async () => {
    const h = new Harness();
    const c = h.send("shell", "complete_request", { code: "al", cursor_pos: 2 });
    const i = h.send("shell", "inspect_request", { code: "foo", cursor_pos: 3, detail_level: 1 });
    const m = h.send("shell", "inspect_request", { code: "missing", cursor_pos: 3, detail_level: 0 });
    const ic = h.send("shell", "is_complete_request", { code: "if (x) {" });
    await h.idle(ic);
    expect(h.reply(c)!.message.content).toEqual({ status: "ok", matches: ["alpha", "alphabet"], cursor_start: 0, cursor_end: 2, metadata: {} });
    expect(h.reply(i)!.message.content).toEqual({ status: "ok", found: true, data: { "text/plain": "doc of foo" }, metadata: {} });
    expect(h.reply(m)!.message.content).toEqual({ status: "ok", found: false, data: {}, metadata: {} });
    expect(h.reply(ic)!.message.content).toEqual({ status: "incomplete", indent: "  " });
    expect(h.executor.calls.find((x) => x.method === "inspect")!.args).toEqual(["foo", 3, 1]);
  });

  it("routes comm_open/comm_msg/comm_close and publishes the comm's answers with the request's parent", async () => {
    const h = new Harness();
    h.executor.commHandler = (commId, data) =>
      h.executor.background({ type: "comm_msg", commId, data: { echo: data }, metadata: {} });
    const open = h.send("shell", "comm_open", { comm_id: "c1", target_name: "known.target", data: { a: 1 } });
    const msg = h.send("shell", "comm_msg", { comm_id: "c1", data: { b: 2 } });
    const info = h.send("shell", "comm_info_request", { target_name: "known.target" });
    await h.idle(info);
    expect(h.reply(info)!.message.content).toEqual({ status: "ok", comms: { c1: { target_name: "known.target" } } });
    expect(h.reply(open)).toBeUndefined();
    expect(h.iopubTypes(msg)).toEqual(["status:busy", "comm_msg", "status:idle"]);
    expect(h.childrenOf(msg)[1].message.content).toEqual({ comm_id: "c1", data: { echo: { b: 2 } } });
    const close = h.send("shell", "comm_close", { comm_id: "c1", data: {} });
    const unknown = h.send("shell", "comm_open", { comm_id: "c2", target_name: "nobody", data: {} });
    await h.idle(unknown);
    expect(h.executor.calls.map((x) => x.method)).toEqual(["commOpen", "commMsg", "commClose", "commOpen"]);
    expect(h.iopubTypes(close)).toEqual(["status:busy", "status:idle"]);
    expect(h.iopubTypes(unknown)).toEqual(["status:busy", "comm_close", "status:idle"]);
    expect(h.childrenOf(unknown)[1].message.content).toEqual({ comm_id: "c2", data: {} });
  });
});

describe("history", () => {
  async function run(h: Harness, codes: string[]): Promise<void> {
    let last = "";
    for (const code of codes) last = h.send("shell", "execute_request", { code });
    await h.idle(last);
  }
  async function history(h: Harness, content: Record<string, unknown>): Promise<unknown[]> {
    const id = h.send("shell", "history_request", { output: false, raw: true, ...content });
    await h.idle(id);
    const reply = h.reply(id)!.message.content;
    expect(reply.status).toBe("ok");
    return reply.history as unknown[];
  }

  it("serves tail, range and search, and keeps history across kernel starts", async () => {
    const first = new Harness();
    await run(first, ["1+2", "x = 5", "1+3"]);
    expect(await history(first, { hist_access_type: "tail", n: 2 })).toEqual([
      [1, 2, "x = 5"],
      [1, 3, "1+3"],
    ]);
    expect(await history(first, { hist_access_type: "tail", n: 1, output: true })).toEqual([[1, 3, ["1+3", "1+3"]]]);

    const second = new Harness(first.historyPath);
    await run(second, ["1+2", "y"]);
    expect(await history(second, { hist_access_type: "tail", n: 3 })).toEqual([
      [1, 3, "1+3"],
      [2, 1, "1+2"],
      [2, 2, "y"],
    ]);
    expect(await history(second, { hist_access_type: "range", session: 1, start: 2, stop: 3 })).toEqual([[1, 2, "x = 5"]]);
    expect(await history(second, { hist_access_type: "range", session: -1, start: 1 })).toEqual([
      [1, 1, "1+2"],
      [1, 2, "x = 5"],
      [1, 3, "1+3"],
    ]);
    expect(await history(second, { hist_access_type: "range", session: 0, start: 0 })).toEqual([
      [2, 1, "1+2"],
      [2, 2, "y"],
    ]);
    expect(await history(second, { hist_access_type: "search", pattern: "1?[23]*" })).toEqual([
      [1, 1, "1+2"],
      [1, 3, "1+3"],
      [2, 1, "1+2"],
    ]);
    expect(await history(second, { hist_access_type: "search", pattern: "1+2", unique: true })).toEqual([[2, 1, "1+2"]]);
    expect(await history(second, { hist_access_type: "search", pattern: "*", n: 2 })).toEqual([
      [2, 1, "1+2"],
      [2, 2, "y"],
    ]);
  });

  it("answers a bad hist_access_type with an error reply", async () => {
    const h = new Harness();
    const id = h.send("shell", "history_request", { hist_access_type: "everything", output: false, raw: true });
    await h.idle(id);
    expect(h.reply(id)!.message.content).toMatchObject({ status: "error", ename: "Error" });
  });

  it("numbers sessions per start even when nothing was executed, and skips malformed lines", async () => {
    const h = new Harness();
    expect(new HistoryStore(h.historyPath).session).toBe(2);
    appendFileSync(h.historyPath, "not json\n");
    const logs: string[] = [];
    const third = new HistoryStore(h.historyPath, (l) => logs.push(l));
    expect(third.session).toBe(3);
    expect(logs[0]).toMatch(/malformed line/);
  });
});

describe("authentication", () => {
  it("drops forged, unsigned, replayed and malformed messages without executing them", async () => {
    const h = new Harness();
    const good = h.frames("execute_request", { code: "ok" });

    const forged = [...good.frames];
    const sigAt = forged.findIndex((f) => f.toString() === "<IDS|MSG>") + 1;
    forged[sigAt] = Buffer.from("0".repeat(64));
    h.kernel.receive("shell", forged);

    const unsigned = [...good.frames];
    unsigned[sigAt] = Buffer.alloc(0);
    h.kernel.receive("shell", unsigned);

    const tampered = [...good.frames];
    tampered[sigAt + 4] = Buffer.from(JSON.stringify({ code: "evil" }));
    h.kernel.receive("shell", tampered);

    h.kernel.receive("shell", [Buffer.from("id"), Buffer.from("no delimiter")]);
    const bad = h.client.message("execute_request", {}, undefined, []);
    const badFrames = encode(bad, h.clientSigner);
    badFrames[badFrames.length - 1] = Buffer.from("{not json");
    // re-sign so only the JSON is wrong
    const parts = badFrames.slice(2, 6);
    badFrames[1] = Buffer.from(h.clientSigner.sign(parts));
    h.kernel.receive("shell", badFrames);

    expect(h.sent).toEqual([]);
    expect(h.executor.calls).toEqual([]);

    h.kernel.receive("shell", good.frames);
    h.kernel.receive("shell", good.frames); // replay
    await h.idle(good.msgId);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.executor.calls.map((c) => c.args[0])).toEqual(["ok"]);
    const logs = h.logs.join("\n");
    for (const why of ["invalid signature", "unsigned message", "no <IDS|MSG> delimiter", "content is not valid JSON", "replayed signature"]) {
      expect(logs).toContain(why);
    }
    expect(logs.match(/invalid signature/g)!.length).toBe(2);
  });
});
