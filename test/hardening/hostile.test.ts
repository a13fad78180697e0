/**
 * Hostile cells through the real kernel: each one fails (or floods, or blocks) in its own way; the kernel
 * survives every one and the next cell still sees the variables defined before.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient } from "../../kernel/client.js";
import { alive, childrenOf, FULL, run, size, waitFor } from "./util.js";

describe("hostile cells", () => {
  let k: KernelClient;
  let survived = 0;
  beforeAll(async () => {
    k = await KernelClient.start();
    await k.ready(60_000);
    expect((await run(k, "let keep = 41; keep")).result).toBe("41");
  }, 120_000);
  afterAll(async () => {
    console.log(`hostile${FULL ? " (full)" : ""}: cells survived=${survived}; kernel exited=${k?.child.exitCode !== null}`);
    await k?.close();
  });

  /** The kernel is alive and earlier state is intact. */
  async function stillAlive(): Promise<void> {
    expect(k.child.exitCode, k.stderr.join("").slice(-2000)).toBeNull();
    const c = await run(k, "keep");
    expect(c.reply.content.status).toBe("ok");
    expect(c.result).toBe("41");
    survived++;
  }

  async function failsWith(code: string, ename: RegExp | string, timeoutMs = 60_000): Promise<string> {
    const c = await run(k, code, timeoutMs);
    expect(c.reply.content.status, JSON.stringify(c.reply.content).slice(0, 500)).toBe("error");
    expect(c.reply.content.ename).toMatch(ename);
    expect(typeof c.reply.content.evalue).toBe("string");
    await stillAlive();
    return c.reply.content.evalue as string;
  }

  it("syntax and type errors", async () => {
    await failsWith("let = ;", "TypeScriptError");
    await failsWith('const s: number = "x";', "TypeScriptError");
  });

  it("throws of non-Error values", async () => {
    await failsWith("throw null;", /.+/);
    await failsWith('throw "a string";', /.+/);
    await failsWith("throw { get name(): string { throw new Error('name getter') }, get message(): string { throw new Error('message getter') }, get stack(): string { throw new Error('stack') } };", /.+/);
    await failsWith(
      "throw new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('proto'); }, ownKeys() { throw new Error('keys'); } });",
      /.+/,
    );
    await failsWith("throw Symbol('s');", /.+/);
  });

  it("infinite recursion", async () => {
    await failsWith("function f(n: number): number { return f(n + 1) + 1; } f(0);", "RangeError");
  });

  it("a 20 GB allocation, typed and plain", async () => {
    // 20 GB of zeroed memory: refused with a RangeError, or (with overcommit) reserved untouched; never fatal.
    const typed = await run(k, "new Float64Array(2.5e9).length");
    if (typed.reply.content.status === "ok") expect(typed.result).toBe("2500000000");
    else expect(typed.reply.content.ename).toBe("RangeError");
    await stillAlive();
    await failsWith("new ArrayBuffer(2 ** 53);", "RangeError");
    await failsWith("'x'.repeat(2 ** 31);", "RangeError");
    // A sparse Array of 2.5e9 holes allocates nothing (filling it is below: it takes the evaluator down).
    const c = await run(k, "const holes = new Array(2.5e9); holes.length");
    expect(c.result).toBe("2500000000");
    await stillAlive();
  });

  it("a rejected promise nobody awaits and a timer that throws after the cell ended", async () => {
    await run(k, 'Promise.reject(new Error("nobody awaits me")); setTimeout(() => { throw new Error("late timer"); }, 100); 1');
    await new Promise((r) => setTimeout(r, 500));
    const next = await run(k, "keep");
    expect(next.result).toBe("41");
    expect(next.stderr).toContain("nobody awaits me");
    expect(next.stderr).toContain("late timer");
    await stillAlive();
  });

  it("10 MB of output in one cell", async () => {
    const c = await run(k, 'console.log("x".repeat(10 * 2 ** 20)); 1', 120_000);
    expect(c.reply.content.status).toBe("ok");
    expect(c.stdout.length).toBe(10 * 2 ** 20 + 1);
    await stillAlive();
  }, 180_000);

  it("100,000 small writes arrive in order, coalesced", async () => {
    const c = await run(k, 'for (let i = 0; i < 100_000; i++) process.stdout.write(i + "\\n");', 120_000);
    expect(c.reply.content.status).toBe("ok");
    const expected = Array.from({ length: 100_000 }, (_, i) => `${i}\n`).join("");
    expect(c.stdout === expected).toBe(true);
    const messages = c.iopub.filter((m) => m.header.msg_type === "stream").length;
    expect(messages).toBeLessThan(1000);
    console.log(`hostile: 100,000 writes arrived as ${messages} stream messages`);
    await stillAlive();
  }, 180_000);

  it("a cell that blocks while the heartbeat answers throughout", async () => {
    const blockMs = size(5, 60) * 1000;
    const id = await k.send("shell", "execute_request", { code: `const t0 = Date.now(); while (Date.now() - t0 < ${blockMs}) {} "done"`, stop_on_error: false });
    const reply = k.reply("shell", id, blockMs + 60_000);
    let pings = 0;
    let slowest = 0;
    let finished = false;
    void reply.then(() => (finished = true));
    const started = Date.now();
    while (!finished) {
      const t = Date.now();
      const echo = await k.ping(Buffer.from(`beat ${pings}`), 2000);
      expect(echo.toString()).toBe(`beat ${pings}`);
      slowest = Math.max(slowest, Date.now() - t);
      pings++;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await reply).content.status).toBe("ok");
    expect(Date.now() - started).toBeGreaterThanOrEqual(blockMs - 500);
    expect(pings).toBeGreaterThan(blockMs / 2000);
    await k.iopubUntilIdle(id);
    console.log(`hostile: blocked ${blockMs} ms; ${pings} heartbeats answered, slowest ${slowest} ms`);
    await stillAlive();
  }, 300_000);

  it("output with invalid UTF-16 (lone surrogates)", async () => {
    const c = await run(k, 'console.log("a\\uD800b\\uDC00c"); display({ "text/plain": "\\uDFFF" }); "\\uD83D"');
    expect(c.reply.content.status).toBe("ok");
    expect(c.stdout).toContain("a\uD800b\uDC00c");
    expect(c.result).toBe("'\\ud83d'"); // util.inspect escapes the lone surrogate
    await stillAlive();
  });
});

/**
 * Cells that take the evaluator process down: V8's fatal heap exhaustion (a small heap limit makes it come
 * quickly), a signal, a native crash, process.exit. Each gets a clear error reply and an idle, the kernel
 * stays up with exactly one (fresh) evaluator process, and the next cell runs without the lost variables.
 */
describe("cells that take the evaluator down", () => {
  let k: KernelClient;
  let deaths = 0;
  beforeAll(async () => {
    k = await KernelClient.start({ env: { DROPOUT_LAB_EVALUATOR_HEAP_MB: "64" } });
    await k.ready(60_000);
  }, 120_000);
  afterAll(async () => {
    console.log(`hostile: evaluator deaths survived=${deaths}; kernel exited=${k?.child.exitCode !== null}`);
    await k?.close();
  });

  /** What ends: the evaluator process, only its thread (replaced inside the process), or either (V8 decides). */
  type Ends = "process" | "thread" | "either";
  const cases: [what: string, code: string, evalue: RegExp, ends: Ends][] = [
    ["filling a 2.5e9-element Array (V8's fatal heap exhaustion)", "new Array(2.5e9).fill(0)", /ran out of memory/, "process"],
    ["SIGKILL", 'process.kill(process.pid, "SIGKILL")', /killed by SIGKILL/, "process"],
    ["a native crash (SIGSEGV)", 'process.kill(process.pid, "SIGSEGV")', /ended by SIGSEGV/, "process"],
    ["process.exit", "process.exit(3)", /exit code 3/, "thread"],
  ];
  if (FULL) cases.push(["a heap filled with small objects", "const a = []; for (;;) a.push({})", /out of memory|memory limit/, "either"]);

  it.each(cases)("%s", async (_what, code, evalue, ends) => {
    const before = Number((await run(k, "process.pid")).result);
    await run(k, "var lost = 1;");
    const c = await run(k, code, 240_000);
    expect(c.reply.content.status, JSON.stringify(c.reply.content).slice(0, 500)).toBe("error");
    expect(c.reply.content.ename).toBe("EvaluatorRestarted");
    expect(c.reply.content.evalue).toMatch(evalue);
    expect(c.reply.content.evalue).toMatch(/variables are gone/);
    expect(c.iopub.some((m) => m.header.msg_type === "error")).toBe(true);
    expect(k.child.exitCode, k.stderr.join("").slice(-2000)).toBeNull();
    expect((await k.ping(Buffer.from("alive"), 10_000)).toString()).toBe("alive");
    const next = await run(k, '"lost" in globalThis ? -1 : 40 + 2', 120_000);
    expect(next.reply.content.status, JSON.stringify(next.reply.content).slice(0, 500)).toBe("ok");
    expect(next.result).toBe("42");
    // one evaluator process, and a fresh one whenever the process died (process.exit ends only the thread)
    const pid = k.child.pid!;
    expect(await waitFor(() => childrenOf(pid).length === 1, 5000), `evaluators: ${childrenOf(pid).join(", ")}`).toBe(true);
    const after = childrenOf(pid)[0]!;
    if (ends !== "either") expect(alive(before)).toBe(ends === "thread");
    expect(Number((await run(k, "process.pid")).result)).toBe(after);
    deaths++;
  }, 600_000);
});
