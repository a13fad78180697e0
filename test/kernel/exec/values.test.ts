import { describe, expect, it } from "vitest";
import { resultText, run, startExecutor } from "./helpers.js";

describe("values", async () => {
  const executor = await startExecutor();

  it("returns the last expression as execute_result with plain text", async () => {
    expect(resultText((await run(executor, "1 + 2")).outcome)).toBe("3");
    expect(resultText((await run(executor, "({ a: [1, 'x'] })")).outcome)).toBe("{ a: [ 1, 'x' ] }");
    expect(resultText((await run(executor, "10n ** 20n")).outcome)).toBe("100000000000000000000n");
    expect(resultText((await run(executor, "-0")).outcome)).toBe("-0");
    expect(resultText((await run(executor, "Symbol('s')")).outcome)).toBe("Symbol(s)");
  });

  it("gives no result for undefined, and none when silent", async () => {
    expect((await run(executor, "let u = 5; undefined")).outcome).toEqual({ status: "ok" });
    expect((await run(executor, "void 0")).outcome).toEqual({ status: "ok" });
    expect((await run(executor, "u * 2", { silent: true })).outcome).toEqual({ status: "ok" });
  });

  it("lets a later cell declare the same const again", async () => {
    await run(executor, "const x = 1;");
    expect((await run(executor, "const x = 2; x * 10")).outcome).toMatchObject({ result: { data: { "text/plain": "20" } } });
    expect(resultText((await run(executor, "x")).outcome)).toBe("2");
  });

  it("keeps state across cells and awaits at top level", async () => {
    await run(executor, "let total = 0; async function addLater(n) { await new Promise((r) => setTimeout(r, 5)); total += n; }");
    const r = await run(executor, "await addLater(3); await addLater(4); total");
    expect(resultText(r.outcome)).toBe("7");
    expect(resultText((await run(executor, "await Promise.resolve('done')")).outcome)).toBe("'done'");
  });

  it("evaluates user expressions", async () => {
    const results = await executor.evaluateExpressions({ a: "total + 1", b: "nope.x" });
    expect(results.a).toEqual({ status: "ok", data: { "text/plain": "8" }, metadata: {} });
    expect(results.b).toMatchObject({ status: "error", ename: "ReferenceError", evalue: "nope is not defined" });
  });
});
