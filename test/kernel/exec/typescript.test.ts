import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellCompiler, type CompileResult } from "../../../kernel/exec/typescript.js";

const kernelRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let cwd: string;

beforeAll(() => {
  cwd = mkdtempSync(path.join(tmpdir(), "dropout-lab-ts-"));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function js(result: CompileResult): string {
  if (!result.ok) throw new Error(`compile failed: ${JSON.stringify(result.diagnostics)}`);
  return result.js;
}

/** Compiles and commits each cell in turn, as the executor does after a successful run. */
function runCells(compiler: CellCompiler, ...cells: string[]): string[] {
  return cells.map((code, i) => {
    const out = js(compiler.compile(code, `In[${i + 1}]`));
    compiler.commit(code);
    return out;
  });
}

/** Evaluates scripts in V8's REPL mode, as the kernel's evaluator does. */
class Repl {
  readonly #session = new Session();
  constructor() {
    this.#session.connect();
    (globalThis as Record<string, unknown>).__dropoutLabImport = (specifier: string) => import(specifier);
  }
  evaluate(expression: string): Promise<{ value?: unknown; error?: string; line?: number }> {
    return new Promise((resolve, reject) => {
      this.#session.post(
        "Runtime.evaluate",
        { expression, replMode: true, awaitPromise: true, returnByValue: true },
        (error, reply) => {
          if (error) return reject(error);
          const details = reply.exceptionDetails;
          if (details) {
            const error = details.exception?.description ?? details.text;
            const line = /\(In\[\d+\]:(\d+):\d+\)/.exec(error)?.[1];
            return resolve({ error, line: line === undefined ? undefined : Number(line) });
          }
          resolve({ value: reply.result.value });
        },
      );
    });
  }
  close(): void {
    this.#session.disconnect();
  }
}

describe("CellCompiler.compile", () => {
  let compiler: CellCompiler;
  beforeAll(() => {
    compiler = new CellCompiler({ cwd, kernelRoot });
  });

  it("lets types flow from earlier cells", () => {
    runCells(compiler, "const m = new Map<string, number>()", "m.set('a', 1)");
    const result = compiler.compile("const s: string = m.get('a')", "In[3]");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ line: 1, column: 7, code: 2322 });
    expect(result.diagnostics[0]!.message).toContain("Type 'number | undefined' is not assignable to type 'string'");
    expect(compiler.compile("const n: number | undefined = m.get('a')", "In[3]").ok).toBe(true);
  });

  it("accepts re-declarations; the later cell's type wins", () => {
    const local = new CellCompiler({ cwd, kernelRoot });
    runCells(local, "const x = 1\nfunction f() { return 1 }\nclass C { a = 1 }\nlet y = 2", "const x = 'text'");
    runCells(local, "function f() { return 'one' }\nclass C { b = 'b' }\nlet y = 'two'");
    expect(local.compile("const s: string = x.toUpperCase() + f() + new C().b + y", "In[4]").ok).toBe(true);
    const stale = local.compile("x.toFixed()", "In[4]");
    expect(stale.ok).toBe(false);
    if (!stale.ok) expect(stale.diagnostics[0]!.message).toContain(`Property 'toFixed' does not exist on type '"text"'`);
  });

  it("keeps types flowing from declarations a .d.ts cannot name", () => {
    const local = new CellCompiler({ cwd, kernelRoot });
    runCells(
      local,
      "const Anonymous = class { private hidden = 1; shown = 2 }\nconst a = new Anonymous()",
      "function make() { class Local { private p = 1; q = 'q' } return new Local() }\nconst made = make()",
    );
    expect(local.compile("const n: number = a.shown\nconst s: string = made.q", "In[3]").ok).toBe(true);
    const wrong = local.compile("const s: string = a.shown", "In[3]");
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.diagnostics[0]).toMatchObject({ line: 1, column: 7, code: 2322 });
  });

  it("allows assigning to an earlier let, not to an earlier const", () => {
    const local = new CellCompiler({ cwd, kernelRoot });
    runCells(local, "let counter = 0\nconst limit = 10");
    expect(local.compile("counter = 5\ncounter++", "In[2]").ok).toBe(true);
    const wrongType = local.compile("counter = 'x'", "In[2]");
    expect(wrongType.ok).toBe(false);
    if (!wrongType.ok) expect(wrongType.diagnostics[0]).toMatchObject({ line: 1, column: 1, code: 2322 });
    runCells(local, "for (var i = 0; i < 3; i++) {}\nfunction f() { var hidden = 1; return hidden }");
    expect(local.compile("i = i + 1", "In[3]").ok).toBe(true);
    expect(local.compile("hidden", "In[3]").ok).toBe(false);
    const constant = local.compile("\n  limit = 11", "In[2]");
    expect(constant.ok).toBe(false);
    if (!constant.ok) {
      expect(constant.diagnostics).toEqual([
        { line: 2, column: 3, code: 2588, message: "Cannot assign to 'limit' because it is a constant." },
      ]);
    }
  });

  it("keeps global augmentations for later cells that import nothing from their cell", () => {
    const local = new CellCompiler({ cwd, kernelRoot });
    runCells(local, "declare global { var notebookFlag: number }\n(globalThis as any).notebookFlag = 1", "const unrelated = 2");
    local.prepare();
    expect(local.compile("const n: number = notebookFlag + unrelated", "In[3]").ok).toBe(true);
    const wrong = local.compile("const s: string = notebookFlag", "In[3]");
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.diagnostics[0]).toMatchObject({ line: 1, column: 7, code: 2322 });
    // `global` is still Node's, not a name the augmenting cell declared.
    expect(local.compile("const g: typeof globalThis = global", "In[3]").ok).toBe(true);
  });

  it("checks against the same names when the next cell's program was prepared ahead", () => {
    const local = new CellCompiler({ cwd, kernelRoot });
    for (const code of ["let total = 1", "const label = 'n'", "const label = 2\ntotal = label"]) {
      expect(local.compile(code, "In[1]").ok).toBe(true);
      local.commit(code);
      local.prepare();
    }
    expect(local.compile("const n: number = total + label", "In[4]").ok).toBe(true);
    const wrong = local.compile("total = 'text'", "In[4]");
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.diagnostics[0]).toMatchObject({ line: 1, column: 1, code: 2322 });
  });

  it("reports errors at the cell's own line and column, only for the current cell", () => {
    const result = compiler.compile("const ok = 1\nconst bad: number = 'x'\n  ok.nope", "In[9]");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostics.map(({ line, column, code }) => ({ line, column, code }))).toEqual([
      { line: 2, column: 7, code: 2322 },
      { line: 3, column: 6, code: 2339 },
    ]);
    // An earlier cell's own problems are not the current cell's.
    const local = new CellCompiler({ cwd, kernelRoot });
    local.commit("const broken: number = 'not a number'\nconst fine = 2");
    expect(local.compile("fine + 1", "In[2]")).toEqual({ ok: true, js: "fine + 1" });
    const syntax = compiler.compile("let a = (1 +", "In[9]");
    expect(syntax.ok).toBe(false);
    if (!syntax.ok) expect(syntax.diagnostics[0]).toMatchObject({ line: 1, column: 13, code: 1109 });
  });

  it("remembers a checked cell until a commit changes what cells see; a changed file beside it is read again", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dropout-lab-checked-"));
    try {
      const local = new CellCompiler({ cwd: dir, kernelRoot });
      expect(local.compile("1 + 1", "In[1]")).toEqual({ ok: true, js: "1 + 1" });
      local.commit("1 + 1"); // declares nothing: the same cell is not checked again
      expect(local.compile("1 + 1", "In[2]")).toEqual({ ok: true, js: "1 + 1" });
      expect(local.compile("y * 2", "In[3]").ok).toBe(false);
      local.commit("const y = 'text'");
      expect(local.compile("y.length", "In[4]").ok).toBe(true);
      local.commit("const y = 2"); // the same cell is checked against the new y
      expect(local.compile("y.length", "In[5]").ok).toBe(false);
      // A cell that uses an earlier cell's import of the user's own file sees that file's edits.
      writeFileSync(path.join(dir, "lib.ts"), "export const v: number = 1;\n");
      expect(local.compile('import { v } from "./lib"', "In[6]").ok).toBe(true);
      local.commit('import { v } from "./lib"');
      expect(local.compile("const n: number = v", "In[7]").ok).toBe(true);
      writeFileSync(path.join(dir, "lib.ts"), "export const v: string = 'one';\n");
      utimesSync(path.join(dir, "lib.ts"), new Date(), new Date(Date.now() + 5000));
      expect(local.compile("const n: number = v", "In[8]").ok).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks a cell in place as a new program checks it", () => {
    // The same notebook twice: cells checked in place in the previous program's checker, and each in a new
    // program. Failed cells are not committed; after each commit the next program is prepared, as the thread does.
    const inPlace = new CellCompiler({ cwd, kernelRoot });
    const fresh = new CellCompiler({ cwd, kernelRoot, checkInPlace: false });
    const cells = [
      "const base = 10",
      "base + 1",
      "null + 1",
      "null + 1",
      "null + 2",
      "let count: number = base\ncount = 'x'",
      "let count: number = base",
      "count = 'x'",
      "count += 1",
      "\n  base = 3",
      "function twice<T>(x: T): [T, T] { return [x, x] }",
      "const pair: [string, string] = twice(base)",
      "const pair = twice('a'); pair[0].toUpperCase()",
      "interface Point { x: number; y: number }\nconst p: Point = { x: 1, y: 2 }",
      "const q: Point = { x: 1 }",
      "class Counter { #n = 0; inc() { return ++this.#n } }\nnew Counter().inc()",
      "new Counter().n",
      "enum Color { Red, Green }\nColor.Blue",
      "enum Color { Red, Green }",
      "const c: Color = Color.Green; c satisfies Color",
      "await new Promise((r) => setTimeout(r, 1))",
      "for await (const x of [Promise.resolve(1)]) x.toFixed()",
      "// @ts-expect-error\nconst bad: number = 'x'",
      "// @ts-expect-error\nconst fine: number = 1",
      "declare global { var flag: number }",
      "flag.toFixed(); flag.nope",
      "let a = (1 +",
      "import.meta.url.length",
      "export const exported = 1",
      "exported.toFixed(); Buffer.from('a').length + process.argv.length",
      "namespace NS { export const v = 1 }\nNS.v.toFixed()",
      "const { x: px, ...rest } = p; px + rest.y + rest.x",
      "label: for (const i of [1]) { if (i) continue label }",
      "function* gen() { yield 1 }\n[...gen()].map((v) => v * 2)",
      "arguments",
      "const big = 2n ** 64n; big.toString(16) + big",
      "new Map<string, Point>().get('a')!.x.toFixed()",
      "const f = (x) => x",
      "twice",
    ];
    for (const [i, code] of cells.entries()) {
      const expected = fresh.compile(code, `In[${i + 1}]`);
      expect({ code, result: inPlace.compile(code, `In[${i + 1}]`) }).toEqual({ code, result: expected });
      if (!expected.ok) continue;
      for (const compiler of [inPlace, fresh]) {
        compiler.commit(code);
        compiler.prepare();
      }
    }
    expect(fresh.checkedInPlace).toBe(0);
    // Those that declare nothing: a cell that declares names is checked in the program its commit will use.
    expect(inPlace.checkedInPlace).toBeGreaterThan(cells.length / 3);
  });

  it("types the kernel's globals", () => {
    expect(
      compiler.compile(
        [
          "display(html`<b>hi</b>`, { displayId: 'd', update: true })",
          "clearOutput({ wait: true })",
          "const name: string = await input('name? ') + await password()",
          "help(display); display(md`# x`.text + svg`<svg/>`.mimeType)",
          "comms.registerTarget('t', (comm, data) => comm.send(data))",
          "comms.open('t', { a: 1 }).close()",
        ].join("\n"),
        "In[1]",
      ).ok,
    ).toBe(true);
    expect(compiler.compile("display()", "In[1]").ok).toBe(false);
  });
});

describe("imports", () => {
  let compiler: CellCompiler;
  beforeAll(() => {
    compiler = new CellCompiler({ cwd, kernelRoot });
  });

  it("types node:, the kernel's packages and dropout-lab from an empty folder", () => {
    const cells = [
      "import { readFileSync } from 'node:fs'\nimport * as path from 'node:path'",
      "import ts from 'typescript'",
      "import { version } from 'dropout-lab'",
    ];
    runCells(compiler, ...cells);
    expect(
      compiler.compile(
        "const a: string = readFileSync('x', 'utf8') + path.join('a', 'b') + ts.version + version.slice(0)\nconsole.log(process.pid)",
        "In[4]",
      ).ok,
    ).toBe(true);
    const wrong = compiler.compile("const n: number = version", "In[4]");
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.diagnostics[0]).toMatchObject({ line: 1, column: 7, code: 2322 });
    const missing = compiler.compile("import { nope } from 'dropout-lab'", "In[4]");
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.diagnostics[0]).toMatchObject({ line: 1, column: 10, code: 2305 });
    const unknown = compiler.compile("\nimport x from 'no-such-package-anywhere'", "In[4]");
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.diagnostics[0]).toMatchObject({ line: 2, column: 15, code: 2307 });
  });

  it("types the notebook folder's own packages; an untyped one is any", () => {
    const folder = mkdtempSync(path.join(tmpdir(), "dropout-lab-pkgs-"));
    try {
      const typed = path.join(folder, "node_modules", "typed-pkg");
      mkdirSync(typed, { recursive: true });
      writeFileSync(path.join(typed, "package.json"), JSON.stringify({ name: "typed-pkg", type: "module", exports: "./index.js" }));
      writeFileSync(path.join(typed, "index.js"), "export const answer = () => 42;\n");
      writeFileSync(path.join(typed, "index.d.ts"), "export declare const answer: () => number;\n");
      const untyped = path.join(folder, "node_modules", "untyped-pkg");
      mkdirSync(untyped, { recursive: true });
      writeFileSync(path.join(untyped, "package.json"), JSON.stringify({ name: "untyped-pkg", main: "index.js" }));
      writeFileSync(path.join(untyped, "index.js"), "module.exports = { anything: 1 };\n");
      const local = new CellCompiler({ cwd: folder, kernelRoot });
      expect(local.compile("import { answer } from 'typed-pkg'\nconst n: number = answer()", "In[1]").ok).toBe(true);
      const wrong = local.compile("import { answer } from 'typed-pkg'\nconst s: string = answer()", "In[1]");
      expect(wrong.ok).toBe(false);
      if (!wrong.ok) expect(wrong.diagnostics[0]).toMatchObject({ line: 2, column: 7, code: 2322 });
      expect(local.compile("import lib from 'untyped-pkg'\nlib.anything.goes()", "In[1]").ok).toBe(true);
      // A package installed after a failed import is found on the next compile.
      expect(local.compile("import { later } from 'later-pkg'", "In[2]").ok).toBe(false);
      const later = path.join(folder, "node_modules", "later-pkg");
      mkdirSync(later, { recursive: true });
      writeFileSync(path.join(later, "package.json"), JSON.stringify({ name: "later-pkg", types: "index.d.ts" }));
      writeFileSync(path.join(later, "index.d.ts"), "export declare const later: string;\n");
      expect(local.compile("import { later } from 'later-pkg'\nconst s: string = later", "In[2]").ok).toBe(true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("transpiles each import form to awaited calls on the same line", () => {
    const out = js(
      compiler.compile(
        [
          'import fs from "node:fs"',
          'import { join as j, sep } from "node:path"',
          'import * as os from "node:os"',
          'import "node:util"',
          'import type { Stats } from "node:fs"',
          'import { type Dirent, readdirSync, Dirent as D } from "node:fs"',
          'import { Server } from "node:http"',
          "export const v = 1",
          "const p = await import('node:path')",
        ].join("\n"),
        "In[1]",
      ),
    );
    const load = (m: string) => `await globalThis.__dropoutLabImport("${m}")`;
    expect(out.split("\n")).toEqual([
      `const fs = ((m) => "default" in m ? m.default : m)(${load("node:fs")});`,
      `const { join: j, sep } = ${load("node:path")};`,
      `const os = ${load("node:os")};`,
      `${load("node:util")};`,
      ";",
      // Dirent is a class (a value) and stays; a binding that only names a type would be dropped.
      `const { readdirSync, Dirent: D } = ${load("node:fs")};`,
      `const { Server } = ${load("node:http")};`,
      "       const v = 1;",
      // The cell ends in a declaration: `void 0` keeps an earlier statement's value from becoming its result.
      `const p = await globalThis.__dropoutLabImport('node:path');void 0;`,
    ]);
  });

  it("drops bindings that only name types", () => {
    runCells(compiler, "export interface Shape { w: number }\nexport const unit = 1");
    const out = js(compiler.compile('import { type Stats, Dirent } from "node:fs"\nimport { Mode } from "node:fs"', "In[2]"));
    expect(out).toBe(`const { Dirent } = await globalThis.__dropoutLabImport("node:fs");\n;void 0;`);
  });
});

describe("transpiled code in V8's REPL mode", () => {
  let repl: Repl;
  let compiler: CellCompiler;
  beforeAll(() => {
    repl = new Repl();
    compiler = new CellCompiler({ cwd, kernelRoot });
  });
  afterAll(() => repl.close());

  async function run(code: string) {
    const out = js(compiler.compile(code, "In[1]"));
    // The evaluator names the script, so that stack traces say where in the notebook an error happened.
    const result = await repl.evaluate(`${out}\n//# sourceURL=In[1]`);
    if (!result.error) compiler.commit(code);
    return { ...result, js: out };
  }

  it("keeps the last expression as the completion value, with top-level await", async () => {
    const first = await run("const xs: number[] = await Promise.resolve([1, 2, 3])\nxs.length * 2");
    expect(first.value).toBe(6);
    expect((await run("interface P { a: number }\nconst p: P = { a: xs[0]! }\np.a + 1\ntype Q = P")).value).toBe(2);
    expect((await run("const late = 1")).value).toBeUndefined();
  });

  it("has no result when the last statement that runs is not an expression, as in IPython", async () => {
    expect((await run("let n2 = 0\nn2 += 5\nconst h2 = 2")).value).toBeUndefined();
    expect((await run("n2 = 7; function f2() {}")).value).toBeUndefined();
    expect((await run("n2 += 1\nfor (let i = 0; i < 2; i++) n2 += i")).value).toBeUndefined();
    expect((await run("42\ntype T2 = number\ninterface I2 {}\ndeclare const d2: number;")).value).toBe(42);
    expect((await run("n2 = 3")).value).toBe(3);
  });

  it("keeps statements apart where it removes one", async () => {
    const code = "let n = 1\nconst inc = (x: number) => x + 1\nn = inc(n)\nexport { n }\n[n, n]";
    expect((await run(code)).value).toEqual([2, 2]);
    expect((await run("n = inc(n)\nimport type { Stats } from 'node:fs'\n[n]")).value).toEqual([3]);
  });

  it("keeps a plain JavaScript cell as written and erases types from any other", async () => {
    const plain = await run("const plain = [1, 2].map((v) => v * 2) // doubled");
    expect(plain.js).toBe("const plain = [1, 2].map((v) => v * 2) // doubled\nvoid 0;");
    expect(plain.value).toBeUndefined();
    expect((await run("plain.length // a line comment ends the cell")).value).toBe(2);
    const typed = await run("const typed: number[] = plain\ntyped!.length as number");
    expect(typed.js).not.toMatch(/: number|!\.| as /);
    expect(typed.value).toBe(2);
  });

  it("never breaks a line where JavaScript forbids it", async () => {
    const code = "const g = <T>(\n  x: T,\n): T[] =>\n  [x]\nfunction h(): number {\n  return <number>\n    (7)\n}\n[...g(1), h()]";
    const result = await run(code);
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual([1, 7]);
  });

  it("runs a re-declared const and imports", async () => {
    expect((await run("const x = 1")).value).toBeUndefined();
    expect((await run("const x = 'two'\nx")).value).toBe("two");
    expect((await run('import { join } from "node:path"\nimport fs from "node:fs"\njoin("a", "b") + typeof fs.readFileSync')).value).toBe(
      "a/bfunction",
    );
  });

  it("keeps line numbers for stack traces", async () => {
    const code = [
      "enum Color { Red, Green }",
      "class Point {",
      "  constructor(",
      "    public x: number,",
      "    private y: number = 2,",
      "  ) {}",
      "}",
      "function fail<T>(value: T): never {",
      "  const message: string = `bad",
      "value ${String(value)}`",
      "  throw new Error(message)",
      "}",
      "const point = new Point(Color.Green)",
      "fail<number>(point.x)",
    ].join("\n");
    const result = await run(code);
    expect(result.js.split("\n")).toHaveLength(14);
    expect(result.error).toContain("bad\nvalue 1");
    expect(result.error).toContain("at fail (In[1]:11:");
    expect(result.line).toBe(11);
    // Every line that has code in the cell starts the same statement in the output.
    expect(result.js.split("\n")[12]).toMatch(/^const point = new Point\(Color\.Green\);$/);
  });
});

describe("CellCompiler.complete and inspect", () => {
  let compiler: CellCompiler;
  beforeAll(() => {
    compiler = new CellCompiler({ cwd, kernelRoot });
    runCells(
      compiler,
      [
        "/**",
        " * Scales a value by a factor.",
        " * @param value the input",
        " * @param factor how much to scale",
        " * @returns the scaled value",
        " */",
        "function scale(value: number, factor = 2): number { return value * factor }",
        "const measurements = new Map<string, number>()",
        "/** Number of samples. */",
        "let samples = 3",
      ].join("\n"),
    );
  });

  it("completes members after a dot with the word's range", () => {
    const reply = compiler.complete("measurements.ge", 15);
    expect(reply.matches).toEqual(["get"]);
    expect(reply.cursorStart).toBe(13);
    expect(reply.cursorEnd).toBe(15);
    const all = compiler.complete("measurements.", 13);
    expect(all.matches).toEqual(expect.arrayContaining(["get", "set", "has", "size", "forEach"]));
    expect(all.cursorStart).toBe(13);
  });

  it("completes names from earlier cells", () => {
    const reply = compiler.complete("const y = mea", 13);
    expect(reply.matches).toContain("measurements");
    expect(reply.cursorStart).toBe(10);
    expect(reply.cursorEnd).toBe(13);
    expect(reply.metadata._jupyter_types_experimental).toEqual(
      expect.arrayContaining([
        { text: "measurements", start: 10, end: 13, type: "instance", signature: "const measurements: Map<string, number>" },
      ]),
    );
    const fn = compiler.complete("sca", 3);
    expect(fn.metadata._jupyter_types_experimental).toEqual([
      { text: "scale", start: 0, end: 3, type: "function", signature: "function scale(value: number, factor?: number): number" },
    ]);
    // A long list gets types (an earlier cell's function is a function, not an import) but no signatures.
    const everything = compiler.complete("", 0);
    expect(everything.matches.length).toBeGreaterThan(100);
    expect(everything.metadata._jupyter_types_experimental).toEqual(
      expect.arrayContaining([{ text: "scale", start: 0, end: 0, type: "function" }]),
    );
  });

  it("counts the cursor in code points (an emoji before it)", () => {
    const code = 'const s = "😀😀"; measurements.si';
    const cursor = [...code].length;
    expect(cursor).toBe(code.length - 2);
    const reply = compiler.complete(code, cursor);
    expect(reply.matches).toEqual(["size"]);
    expect(reply.cursorStart).toBe(cursor - 2);
    expect(reply.cursorEnd).toBe(cursor);
    const middle = compiler.complete(`${code}\nsca`, cursor + 4);
    expect(middle.matches).toContain("scale");
    expect([middle.cursorStart, middle.cursorEnd]).toEqual([cursor + 1, cursor + 4]);
  });

  it("inspects a function with its signature and JSDoc", () => {
    const reply = compiler.inspect("scale(3)", 3, 0);
    expect(reply.found).toBe(true);
    const text = reply.data["text/plain"];
    expect(text).toContain("function scale(value: number, factor?: number): number");
    expect(text).toContain("Scales a value by a factor.");
    expect(text).toContain("@param value the input");
    expect(text).toContain("@returns the scaled value");
    expect(reply.data["text/markdown"]).toContain("*@param* `factor` how much to scale");
    expect(reply.data["text/markdown"]).toContain("```typescript\nfunction scale(");
    const detailed = compiler.inspect("scale", 5, 1);
    expect(detailed.data["text/plain"]).toContain(
      "Defined in In[1], line 7:\nfunction scale(value: number, factor = 2): number { return value * factor }",
    );
    expect(compiler.inspect("measurements", 12, 0).data["text/plain"]).toBe("const measurements: Map<string, number>");
    expect(compiler.inspect("1 +  2", 4, 0)).toEqual({ found: false, data: {} });
    const library = compiler.inspect("Math.max", 7, 1).data["text/plain"];
    expect(library).toMatch(/^\(method\) Math\.max\(\.\.\.values: number\[\]\): number\n/);
    expect(library).toMatch(/Defined in typescript\/lib\/lib\.es5\.d\.ts, line \d+:\nmax\(\.\.\.values: number\[\]\): number;/);
  });

  it("inspects an earlier cell's let with its JSDoc and declaration", () => {
    const reply = compiler.inspect("samples += 1", 7, 1);
    expect(reply.found).toBe(true);
    expect(reply.data["text/plain"]).toBe(
      "let samples: number\n\nNumber of samples.\n\nDefined in In[1], line 10:\nlet samples = 3",
    );
  });
});

describe("CellCompiler.isComplete", () => {
  const compiler = new CellCompiler({ cwd: tmpdir(), kernelRoot });

  it("says complete for whole statements", () => {
    for (const code of ["const x = 1", "if (x) {\n  y()\n}", "await f()", "`a\n${b}`", "import x from 'y'"]) {
      expect(compiler.isComplete(code), code).toEqual({ status: "complete" });
    }
  });

  it("says incomplete, with an indent, for open brackets, blocks, templates and comments", () => {
    expect(compiler.isComplete("if (x) {")).toEqual({ status: "incomplete", indent: "  " });
    expect(compiler.isComplete("function f() {\n  for (const a of b) {")).toEqual({ status: "incomplete", indent: "    " });
    expect(compiler.isComplete("  foo(1,")).toEqual({ status: "incomplete", indent: "  " });
    expect(compiler.isComplete("const a = [")).toEqual({ status: "incomplete", indent: "  " });
    expect(compiler.isComplete("const s = `line\n${x}")).toEqual({ status: "incomplete", indent: "" });
    expect(compiler.isComplete("/* note")).toEqual({ status: "incomplete", indent: "" });
    expect(compiler.isComplete("class A {\n  m() {\n    return 1\n\n")).toEqual({ status: "incomplete", indent: "    " });
  });

  it("says invalid for code that no suffix can fix", () => {
    for (const code of ["}", "let 1x = ", "const s = 'open", "if (x) { ) "]) {
      expect(compiler.isComplete(code), code).toEqual({ status: "invalid" });
    }
  });
});
