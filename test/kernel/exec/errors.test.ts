import { describe, expect, it } from "vitest";
import { resultText, run, startExecutor } from "./helpers.js";

describe("errors", async () => {
  const executor = await startExecutor();

  it("maps stack frames to the cell's lines and drops the kernel's frames", async () => {
    const r = await run(executor, `let ok = 1;\nfunction inner() {\n  throw new RangeError("too far");\n}\ninner();`);
    expect(r.outcome).toMatchObject({ status: "error", ename: "RangeError", evalue: "too far" });
    const tb = (r.outcome as { traceback: string[] }).traceback;
    expect(tb[0]).toBe("RangeError: too far");
    expect(tb[1]).toMatch(/^ {4}at inner \(cell\d+\.ts:3:9\)$/);
    expect(tb[2]).toMatch(/^ {4}at cell\d+\.ts:5:1$/);
    expect(tb).toHaveLength(3);
  });

  it("names frames after the execution count", async () => {
    const outcome = await executor.execute("\n\nnull.x", {
      executionCount: 77,
      silent: false,
      storeHistory: true,
      allowStdin: false,
      onEvent: () => undefined,
      onInputRequest: () => Promise.reject(new Error("no stdin")),
    });
    expect(outcome).toMatchObject({ status: "error", ename: "TypeError", traceback: [expect.any(String), "    at cell77.ts:3:6"] });
  });

  it("maps errors after an await too", async () => {
    const r = await run(executor, `await null;\nundefinedThing();`);
    expect(r.outcome).toMatchObject({ ename: "ReferenceError", evalue: "undefinedThing is not defined" });
    expect((r.outcome as { traceback: string[] }).traceback[1]).toMatch(/^ {4}at cell\d+\.ts:2:1$/);
  });

  it("turns thrown non-errors into errors without crashing", async () => {
    for (const [code, evalue] of [
      ["throw null", "null"],
      ["throw undefined", "undefined"],
      ['throw "plain text"', "'plain text'"],
      ["throw 42", "42"],
      ["throw { code: 7 }", "{ code: 7 }"],
      ["await Promise.reject('later')", "'later'"],
    ]) {
      expect((await run(executor, code!)).outcome).toEqual({ status: "error", ename: "Uncaught", evalue, traceback: [`Uncaught ${evalue}`] });
    }
  });

  it("survives thrown objects whose getters and inspection throw", async () => {
    const r = await run(
      executor,
      `const evil = { get stack() { throw new Error("no stack"); }, get name() { throw 1; }, [Symbol.for("nodejs.util.inspect.custom")]() { throw new Error("no look"); } };
       throw evil;`,
    );
    expect(r.outcome).toMatchObject({ status: "error", ename: "Uncaught" });
    expect((r.outcome as { evalue: string }).evalue).toContain("cannot be inspected");
    const e = await run(executor, `const half = new Error("half"); Object.defineProperty(half, "message", { get() { throw 2; } }); throw half;`);
    expect(e.outcome).toMatchObject({ status: "error", ename: "Error", evalue: "" });
    expect(resultText((await run(executor, "ok + 1")).outcome)).toBe("2");
  });

  it("points at syntax errors in the cell", async () => {
    const r = await run(executor, "let fine = 1;\nlet broken = (;");
    expect(r.outcome).toMatchObject({ status: "error", ename: "SyntaxError", evalue: "Unexpected token ';'" });
    expect((r.outcome as { traceback: string[] }).traceback[1]).toMatch(/^ {4}at cell\d+\.ts:2:15$/);
  });

  it("keeps variables declared before a throw in the same cell", async () => {
    await run(executor, `var early = "set"; throw new Error("stop");`);
    expect(resultText((await run(executor, "early")).outcome)).toBe("'set'");
  });

  it("reports compile errors without running the cell", async () => {
    const failing = await startExecutor(process.cwd(), () => ({
      compile: (code, cellName) =>
        code.includes("bad")
          ? { ok: false, diagnostics: [{ line: 2, column: 5, code: 2322, message: "Type 'string' is not assignable to type 'number'." }] }
          : { ok: true, js: code },
      commit: () => undefined,
      complete: () => ({ matches: [], cursorStart: 0, cursorEnd: 0, metadata: {} }),
      inspect: () => ({ found: false, data: {} }),
      isComplete: () => ({ status: "unknown" }),
    }));
    const r = await run(failing, `globalThis.ran = true;\nbad`);
    const line = expect.stringMatching(/^cell\d+\.ts\(2,5\): error TS2322: Type 'string' is not assignable to type 'number'\.$/);
    expect(r.outcome).toEqual({ status: "error", ename: "TypeScriptError", evalue: line, traceback: [line] });
    expect(resultText((await run(failing, "typeof globalThis.ran")).outcome)).toBe("'undefined'");
  });
});
