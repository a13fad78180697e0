import { afterAll, describe, expect, it } from "vitest";
import { javascript, resultText, run, startExecutor } from "./helpers.js";
import { createExecutor, type Executor } from "../../../kernel/exec/index.js";

/** Runs `code` and interrupts it after `delay` ms; returns the outcome and how long the stop took. */
async function interruptAfter(executor: Executor, code: string, delay: number) {
  const running = run(executor, code);
  await new Promise((r) => setTimeout(r, delay));
  const stoppedAt = Date.now();
  executor.interrupt();
  const result = await running;
  return { ...result, stopMs: Date.now() - stoppedAt };
}

describe("interrupt", async () => {
  const executor = await startExecutor();

  it("stops a synchronous loop with KeyboardInterrupt and keeps earlier variables", async () => {
    await run(executor, "var kept = 'before'; let spins = 0;");
    const r = await interruptAfter(executor, "while (true) { spins++; }", 300);
    expect(r.outcome).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
    expect(r.stopMs).toBeLessThan(1000);
    expect(resultText((await run(executor, "kept")).outcome)).toBe("'before'");
    expect(resultText((await run(executor, "spins > 0")).outcome)).toBe("true");
  });

  it("stops an awaiting loop, and the loop does not go on in the background", async () => {
    await run(executor, "const sleep = (ms) => new Promise((r) => setTimeout(r, ms)); let ticks = 0;");
    const r = await interruptAfter(executor, "while (true) { ticks++; await sleep(10); }", 300);
    expect(r.outcome).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
    expect(r.stopMs).toBeLessThan(1000);
    const first = Number(resultText((await run(executor, "ticks")).outcome));
    expect(first).toBeGreaterThan(5);
    await new Promise((res) => setTimeout(res, 200));
    expect(Number(resultText((await run(executor, "ticks")).outcome))).toBe(first);
  });

  it("stops a cell waiting on a promise that never settles", async () => {
    const r = await interruptAfter(executor, "await new Promise(() => {})", 100);
    expect(r.outcome).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
    expect(resultText((await run(executor, "kept + '!'")).outcome)).toBe("'before!'");
  });

  it("stops an awaiting loop while a background interval keeps Node's timers busy", async () => {
    await run(executor, "let beats = 0; const beat = setInterval(() => { beats++; for (let i = 0; i < 1e5; i++); }, 1);");
    const r = await interruptAfter(executor, "let n = 0; while (true) { n++; await sleep(5); }", 200);
    expect(r.outcome).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
    const before = Number(resultText((await run(executor, "beats")).outcome));
    const stoppedAt = Number(resultText((await run(executor, "n")).outcome));
    await new Promise((res) => setTimeout(res, 100));
    expect(Number(resultText((await run(executor, "clearInterval(beat); beats")).outcome))).toBeGreaterThan(before);
    expect(Number(resultText((await run(executor, "n")).outcome))).toBe(stoppedAt);
  });

  it("replaces a worker stuck in a synchronous loop inside a timer, and says so", async () => {
    const r = await interruptAfter(executor, "setTimeout(() => { while (true) {} }, 0); await new Promise(() => {})", 100);
    expect(r.outcome).toMatchObject({ status: "error", ename: "EvaluatorRestarted" });
    expect(r.stopMs).toBeLessThan(3000);
    expect((await run(executor, "typeof kept")).outcome).toMatchObject({ result: { data: { "text/plain": "'undefined'" } } });
  });

  it("does nothing when no cell runs", async () => {
    executor.interrupt();
    expect(resultText((await run(executor, "1 + 1")).outcome)).toBe("2");
  });
});

describe("interrupt while a cell is type-checked", async () => {
  // JavaScript cells whose check takes 300 ms, as a large TypeScript cell's may.
  const slow = () => ({ ...javascript(), compile: async (code: string) => (await new Promise((r) => setTimeout(r, 300)), { ok: true as const, js: code }) });
  const executor = await startExecutor(process.cwd(), slow);

  it("stops the cell before it runs", async () => {
    await run(executor, "var runs = 0;");
    const r = await interruptAfter(executor, "runs++; while (true) {}", 100);
    expect(r.outcome).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
    expect(resultText((await run(executor, "runs")).outcome)).toBe("0");
  });
});

describe("interrupt while the compiler thread checks a cell it would send to the evaluator itself", async () => {
  const executor = createExecutor({ cwd: process.cwd() });
  await executor.start();
  afterAll(() => executor.shutdown());
  // A type whose check takes seconds (a tuple built one element at a time, up to 600 elements).
  const slowType = 'type Tup<N extends number, A extends 0[] = []> = A["length"] extends N ? A : Tup<N, [...A, 0]>;\nconst t: Tup<600>["length"] = 600;\n';

  it("does not run the cell, and the next cell runs", async () => {
    await run(executor, "var checkedRuns = 0;");
    const r = await interruptAfter(executor, `${slowType}checkedRuns++;\nwhile (true) {}`, 100);
    expect(r.outcome).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
    expect(resultText((await run(executor, "checkedRuns")).outcome)).toBe("0");
  }, 60_000);
});
