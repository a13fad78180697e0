import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createExecutor } from "../../../kernel/exec/index.js";
import { resultText, run } from "./helpers.js";

/** The executor with its real compiler: TypeScript cells, type-checked, from a folder outside the package. */
describe("TypeScript cells", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dropout-lab-ts-notebook-"));
  writeFileSync(join(dir, "local.mjs"), "export const local = (n) => n + 1;\n");
  writeFileSync(join(dir, "old.cjs"), "module.exports = { old: 'cjs' };\n");
  const executor = createExecutor({ cwd: dir });
  await executor.start();
  afterAll(async () => {
    await executor.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs typed cells, redeclares consts and awaits at top level", async () => {
    await run(executor, "const x: number = 1;\ninterface Point { x: number; y: number }");
    expect(resultText((await run(executor, "const x: string = 'two';\nx.toUpperCase()")).outcome)).toBe("'TWO'");
    const p = await run(executor, "const p: Point = { x: 1, y: await Promise.resolve(2) };\np");
    expect(resultText(p.outcome)).toBe("{ x: 1, y: 2 }");
  });

  it("stops at type errors with the cell's line and column, without running", async () => {
    const r = await run(executor, "(globalThis as any).sideEffect = 1;\nconst n: number = 'text';");
    expect(r.outcome).toMatchObject({ status: "error", ename: "TypeScriptError" });
    expect((r.outcome as { evalue: string }).evalue).toMatch(/^cell\d+\.ts\(2,7\): error TS2322: Type 'string' is not assignable to type 'number'\.$/);
    expect(resultText((await run(executor, "typeof (globalThis as any).sideEffect")).outcome)).toBe("'undefined'");
  });

  it("checks a cell run again against what later cells declared", async () => {
    await run(executor, "const again = 2;");
    for (let i = 0; i < 2; i++) expect(resultText((await run(executor, "again * 2")).outcome)).toBe("4");
    await run(executor, "const again = 'two';");
    const r = await run(executor, "again * 2");
    expect(r.outcome).toMatchObject({ status: "error", ename: "TypeScriptError" });
    expect(resultText((await run(executor, "again.length")).outcome)).toBe("3");
  });

  it("maps runtime errors to the cell's lines", async () => {
    const r = await run(executor, "type T = { a: number };\nfunction fail(t: T): never {\n  throw new Error(`bad ${t.a}`);\n}\nfail({ a: 1 });");
    expect(r.outcome).toMatchObject({ ename: "Error", evalue: "bad 1" });
    expect((r.outcome as { traceback: string[] }).traceback[1]).toMatch(/^ {4}at fail \(cell\d+\.ts:3:9\)$/);
  });

  it("imports built-ins, packages of the kernel install, local ESM and CommonJS files", async () => {
    const r = await run(
      executor,
      [
        'import { join } from "node:path";',
        'import ts from "typescript";',
        'import { local } from "./local.mjs";',
        'import legacy from "./old.cjs";',
        "[join('a', 'b'), typeof ts.transpileModule, local(1), legacy.old]",
      ].join("\n"),
    );
    expect(resultText(r.outcome)).toBe("[ 'a/b', 'function', 2, 'cjs' ]");
  });

  it("completes, inspects and answers is_complete through the compiler thread", async () => {
    await run(executor, "/** The notebook's answer. */\nconst answer = 42");
    expect((await executor.complete("answer.toFi", 11)).matches).toEqual(["toFixed"]);
    const inspected = await executor.inspect("answer", 3, 0);
    expect(inspected.found).toBe(true);
    expect(inspected.data["text/plain"]).toMatch(/^const answer: 42\n\nThe notebook's answer\.$/);
    expect(await executor.isComplete("if (answer) {")).toEqual({ status: "incomplete", indent: "  " });
  });

  it("has console, display and the kernel's globals typed in any folder", async () => {
    const r = await run(executor, "console.log('typed'); display(html`<p>${1 + 1}</p>`); clearOutput({ wait: true });");
    expect(r.outcome).toEqual({ status: "ok" });
    expect(r.stdout).toBe("typed\n");
  });
});
