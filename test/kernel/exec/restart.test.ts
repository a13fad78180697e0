import { afterAll, describe, expect, it } from "vitest";
import { createExecutor } from "../../../kernel/exec/index.js";
import { javascript, resultText, run } from "./helpers.js";

describe("a worker that dies", async () => {
  const executor = createExecutor({ cwd: process.cwd(), compiler: javascript, maxHeapMb: 64 });
  await executor.start();
  afterAll(() => executor.shutdown());

  it("reports running out of heap and starts a fresh worker", async () => {
    await run(executor, "var before = 1;");
    const r = await run(executor, "const hoard = []; while (true) hoard.push({ n: hoard.length, s: 'x'.repeat(64) + hoard.length });");
    expect(r.outcome).toMatchObject({ status: "error", ename: "EvaluatorRestarted" });
    expect((r.outcome as { evalue: string }).evalue).toContain("JS heap out of memory");
    expect(resultText((await run(executor, "typeof before")).outcome)).toBe("'undefined'");
    expect(resultText((await run(executor, "const hoard = 'fresh'; hoard")).outcome)).toBe("'fresh'");
  });

  it("survives process.exit in a cell", async () => {
    const r = await run(executor, "process.exit(3)");
    expect(r.outcome).toMatchObject({ status: "error", ename: "EvaluatorRestarted", evalue: expect.stringContaining("exit code 3") });
    expect(resultText((await run(executor, "40 + 2")).outcome)).toBe("42");
  });
});
