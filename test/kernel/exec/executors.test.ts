import { describe, expect, it } from "vitest";
import { createExecutor, type Executor } from "../../../kernel/exec/index.js";
import { javascript, resultText, run } from "./helpers.js";

/** A synchronous loop interrupted after 200 ms: KeyboardInterrupt (not a restart) means the right thread was stopped. */
async function interruptLoop(executor: Executor) {
  const running = run(executor, "while (true) {}");
  await new Promise((r) => setTimeout(r, 200));
  executor.interrupt();
  return (await running).outcome;
}

describe("executors in one process", () => {
  it("start beside each other and after one shut down, each with its own evaluator", async () => {
    const first = createExecutor({ cwd: process.cwd(), compiler: javascript });
    const second = createExecutor({ cwd: process.cwd(), compiler: javascript });
    let third: Executor | undefined;
    try {
      await first.start();
      await second.start();
      await run(first, "var where = 'first'");
      expect(resultText((await run(second, "typeof where")).outcome)).toBe("'undefined'");
      expect(await interruptLoop(second)).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
      expect(resultText((await run(first, "where")).outcome)).toBe("'first'");
      await first.shutdown();
      third = createExecutor({ cwd: process.cwd(), compiler: javascript });
      await third.start();
      await run(third, "var kept = 3");
      expect(await interruptLoop(third)).toMatchObject({ status: "error", ename: "KeyboardInterrupt" });
      expect(resultText((await run(third, "kept")).outcome)).toBe("3");
    } finally {
      await Promise.all([first.shutdown(), second.shutdown(), third?.shutdown()]);
    }
  });
});
