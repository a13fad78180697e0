import { describe, expect, it } from "vitest";
import { javascript, run, startExecutor } from "./helpers.js";
import { createExecutor, type ExecEvent } from "../../../kernel/exec/index.js";

/** Events as short strings, adjacent text of one stream joined (how it is split depends on timing). */
const kinds = (events: ExecEvent[]) =>
  events.reduce<string[]>((out, e) => {
    const last = out[out.length - 1];
    if (e.type === "stream" && last?.startsWith(`${e.name}:`)) out[out.length - 1] = last + e.text;
    else out.push(e.type === "stream" ? `${e.name}:${e.text}` : e.type);
    return out;
  }, []);

describe("output", async () => {
  const executor = await startExecutor();

  it("formats console calls like Node without colours", async () => {
    const r = await run(
      executor,
      `console.log("a %d b", 5, { x: [1] }); console.info("info"); console.debug("debug");
       console.warn("warn", 1); console.error(new Map([[1, 2]])); console.dir({ d: 1 }); console.table([{ k: 1 }]);`,
    );
    expect(r.stdout).toBe(
      "a 5 b { x: [ 1 ] }\ninfo\ndebug\n{ d: 1 }\n" +
        "┌─────────┬───┐\n│ (index) │ k │\n├─────────┼───┤\n│ 0       │ 1 │\n└─────────┴───┘\n",
    );
    expect(r.stderr).toBe("warn 1\nMap(1) { 1 => 2 }\n");
    expect(r.stdout + r.stderr).not.toContain("\u001b[");
  });

  it("keeps the order of stdout, stderr, process writes and displays", async () => {
    const r = await run(
      executor,
      `console.log("one"); process.stdout.write("two\\n"); console.error("three"); display(html\`<b>four</b>\`);
       process.stderr.write(Buffer.from("five\\n")); console.log("six"); clearOutput({ wait: true }); console.log("seven");`,
    );
    expect(kinds(r.events)).toEqual([
      "stdout:one\ntwo\n",
      "stderr:three\n",
      "display",
      "stderr:five\n",
      "stdout:six\n",
      "clear_output",
      "stdout:seven\n",
    ]);
    expect(r.events.find((e) => e.type === "display")).toEqual({ type: "display", data: { "text/html": "<b>four</b>", "text/plain": "<b>four</b>" }, metadata: {} });
    expect(r.events.find((e) => e.type === "clear_output")).toEqual({ type: "clear_output", wait: true });
  });

  it("coalesces 100,000 small writes into few events, in order, all delivered before the cell ends", async () => {
    const r = await run(
      executor,
      `for (let i = 0; i < 100000; i++) { if (i % 25000 === 0) console.error("e" + i); process.stdout.write(i + ","); }`,
    );
    const expected = Array.from({ length: 100000 }, (_, i) => `${i},`).join("");
    expect(r.stdout).toBe(expected);
    expect(r.events.length).toBeLessThan(100);
    const stderrAt = r.events.flatMap((e, i) => (e.type === "stream" && e.name === "stderr" ? [i] : []));
    expect(r.events.filter((e) => e.type === "stream" && e.name === "stderr").map((e) => (e as { text: string }).text)).toEqual([
      "e0\n",
      "e25000\n",
      "e50000\n",
      "e75000\n",
    ]);
    // Each stderr line sits between the stdout text written before and after it.
    for (const [n, index] of stderrAt.entries()) {
      const before = r.events.slice(0, index).map((e) => (e.type === "stream" && e.name === "stdout" ? e.text : "")).join("");
      expect(before).toBe(expected.slice(0, expected.indexOf(`${n * 25000},`)));
    }
  });

  it("delivers a long synchronous cell's output while it runs", async () => {
    const seen: number[] = [];
    const started = Date.now();
    await executor.execute(`console.log("early"); const until = Date.now() + 400; while (Date.now() < until);`, {
      executionCount: 1,
      silent: false,
      storeHistory: true,
      allowStdin: false,
      onEvent: () => seen.push(Date.now() - started),
      onInputRequest: () => Promise.reject(new Error("no stdin")),
    });
    expect(seen.length).toBe(1);
    expect(seen[0]).toBeLessThan(300);
  });

  it("holds output from after a cell for the next cell, and survives rejections and throwing timers", async () => {
    const r = await run(
      executor,
      `var survivor = 42; setTimeout(() => console.log("late"), 20);
       void Promise.reject(new Error("nobody listens"));
       setTimeout(() => { throw new TypeError("thrown from a timer"); }, 30); undefined`,
    );
    expect(r.outcome).toEqual({ status: "ok" });
    await new Promise((res) => setTimeout(res, 100));
    const next = await run(executor, "survivor");
    expect(next.outcome).toMatchObject({ status: "ok", result: { data: { "text/plain": "42" } } });
    expect(next.stdout).toBe("late\n");
    expect(next.stderr).toMatch(/^Unhandled promise rejection:\nError: nobody listens\n {4}at cell\d+\.ts:2:28\n/);
    expect(next.stderr).toMatch(/Uncaught exception in a callback:\nTypeError: thrown from a timer\n {4}at Timeout\._onTimeout \(cell\d+\.ts:3:33\)/);
  });

  it("sends background output to onBackgroundEvent when given", async () => {
    const background: ExecEvent[] = [];
    const own = createExecutor({ cwd: process.cwd(), compiler: javascript, onBackgroundEvent: (e) => background.push(e) });
    try {
      const r = await run(own, `setTimeout(() => console.log("afterwards"), 10); "now"`);
      expect(r.events).toEqual([]);
      await new Promise((res) => setTimeout(res, 100));
      expect(background).toEqual([{ type: "stream", name: "stdout", text: "afterwards\n" }]);
    } finally {
      await own.shutdown();
    }
  });
});
