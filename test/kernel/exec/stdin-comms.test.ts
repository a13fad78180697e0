import { describe, expect, it } from "vitest";
import { javascript, resultText, run, startExecutor } from "./helpers.js";
import { createExecutor, type ExecEvent } from "../../../kernel/exec/index.js";

describe("stdin", async () => {
  const executor = await startExecutor();

  it("asks the front end through onInputRequest, after delivering earlier output", async () => {
    const log: string[] = [];
    const outcome = await executor.execute(
      `console.log("before"); const name = await input("Name? "); const secret = await password("Key: "); name + "/" + secret`,
      {
        executionCount: 1,
        silent: false,
        storeHistory: true,
        allowStdin: true,
        onEvent: (e) => log.push(e.type === "stream" ? e.text : e.type),
        onInputRequest: async (prompt, password) => {
          log.push(`asked ${prompt}${password ? " (password)" : ""}`);
          return password ? "s3cret" : "Ada";
        },
      },
    );
    expect(log).toEqual(["before\n", "asked Name? ", "asked Key:  (password)"]);
    expect(resultText(outcome)).toBe("'Ada/s3cret'");
  });

  it("fails clearly when the front end does not allow stdin", async () => {
    const r = await run(executor, `await input("x")`, { allowStdin: false });
    expect(r.outcome).toMatchObject({ status: "error", ename: "Error", evalue: "input() is not available: this front end does not allow stdin" });
  });

  it("can be interrupted while waiting for input", async () => {
    const running = run(executor, `await input("never answered")`, { allowStdin: true, input: () => new Promise(() => {}) });
    await new Promise((r) => setTimeout(r, 100));
    executor.interrupt();
    expect((await running).outcome).toMatchObject({ ename: "KeyboardInterrupt" });
  });
});

describe("comms", async () => {
  const background: ExecEvent[] = [];
  const executor = createExecutor({ cwd: process.cwd(), compiler: javascript, onBackgroundEvent: (e) => background.push(e) });
  await executor.start();

  it("opens a comm from a cell and exchanges messages with the front end", async () => {
    const r = await run(
      executor,
      `const received = []; const c = comms.open("dropout-lab.progress", { total: 3 }, { v: 1 });
       c.onMsg((data) => { received.push(data); c.send({ echo: data }); }); c.send({ step: 1 }); c.commId`,
    );
    const commId = JSON.parse(String(resultText(r.outcome)).replace(/'/g, '"')) as string;
    expect(r.events).toEqual([
      { type: "comm_open", commId, targetName: "dropout-lab.progress", data: { total: 3 }, metadata: { v: 1 } },
      { type: "comm_msg", commId, data: { step: 1 }, metadata: {} },
    ]);
    expect(await executor.commInfo()).toEqual({ [commId]: { target_name: "dropout-lab.progress" } });
    expect(await executor.commInfo("other")).toEqual({});
    await executor.commMsg(commId, { from: "front end" }, {});
    expect(background).toEqual([{ type: "comm_msg", commId, data: { echo: { from: "front end" } }, metadata: {} }]);
    expect(resultText((await run(executor, "received")).outcome)).toBe("[ { from: 'front end' } ]");
    await executor.commClose(commId, {}, {});
    expect(await executor.commInfo()).toEqual({});
  });

  it("lets cells register targets the front end opens comms to", async () => {
    background.length = 0;
    await run(
      executor,
      `const opened = []; comms.registerTarget("echo", (comm, data) => { opened.push(data); comm.onMsg((d) => comm.send(d)); comm.onClose(() => opened.push("closed")); });`,
    );
    expect(await executor.commOpen("front-1", "echo", { hello: 1 }, {})).toBe(true);
    expect(await executor.commOpen("front-2", "unknown-target", {}, {})).toBe(false);
    await executor.commMsg("front-1", { ping: 2 }, {});
    expect(background).toEqual([{ type: "comm_msg", commId: "front-1", data: { ping: 2 }, metadata: {} }]);
    await executor.commClose("front-1", {}, {});
    expect(resultText((await run(executor, "opened")).outcome)).toBe("[ { hello: 1 }, 'closed' ]");
    const closed = await run(executor, `c.close(); c.send(1)`);
    expect(closed.outcome).toMatchObject({ status: "error", evalue: expect.stringMatching(/^comm .* is closed$/) });
  });

  it("rejects data that is not JSON", async () => {
    const r = await run(executor, `comms.open("x", { f: 1n })`);
    expect(r.outcome).toMatchObject({ status: "error", ename: "TypeError", evalue: expect.stringMatching(/^comm data must be JSON-serialisable/) });
    await executor.shutdown();
  });
});
