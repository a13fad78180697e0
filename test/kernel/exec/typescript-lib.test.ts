import path from "node:path";
import type * as TS from "typescript";
import { describe, expect, it } from "vitest";
import { ts } from "../../../kernel/exec/typescript-api.js";
import { libBundle, libOrigin } from "../../../kernel/exec/typescript-lib.js";

const OPTIONS: TS.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: ["lib.es2023.d.ts"],
  types: [],
  noEmit: true,
};
const bundle = libBundle(OPTIONS);
const ROOT = path.join(path.dirname(bundle.fileName), "__lib_test__.ts");

/** A program over one file holding `code`; with the bundle, the lib files it holds read as empty. */
function program(code: string, withBundle: boolean): TS.Program {
  const host = ts.createCompilerHost(OPTIONS);
  const read = (f: string) => {
    if (f === ROOT) return code;
    if (withBundle && f === bundle.fileName) return bundle.text;
    return withBundle && bundle.covered.has(f) ? "" : ts.sys.readFile(f);
  };
  host.readFile = read;
  host.fileExists = (f) => read(f) !== undefined;
  host.getSourceFile = (f, v) => {
    const text = read(f);
    return text === undefined ? undefined : ts.createSourceFile(f, text, v, true);
  };
  return ts.createProgram({ rootNames: [ROOT], options: withBundle ? { ...OPTIONS, lib: [bundle.name] } : OPTIONS, host });
}

function diagnostics(p: TS.Program): string[] {
  const file = p.getSourceFile(ROOT);
  return p.getSemanticDiagnostics(file).map((d) => `${d.start} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

describe("libBundle", () => {
  it("holds the lib files TypeScript loads, in TypeScript's order, each file's text at its offset", () => {
    const real = program("", false);
    const libs = real.getSourceFiles().filter((f) => real.isSourceFileDefaultLibrary(f));
    expect(libs.length).toBeGreaterThan(40);
    expect(bundle.parts.map((p) => p.fileName)).toEqual(libs.map((f) => f.fileName));
    for (const [i, part] of bundle.parts.entries()) {
      const text = libs[i]!.text;
      const held = bundle.text.slice(part.start, part.start + text.length);
      expect(held.replace(/^\/\/ (?=\s*<reference\s+lib=)/gm, "///")).toBe(text);
    }
  });

  it("places an offset in its lib file and line", () => {
    const offset = bundle.text.indexOf("declare var Set: SetConstructor;");
    const origin = libOrigin(bundle, offset);
    expect(path.basename(origin.fileName)).toBe("lib.es2015.collection.d.ts");
    const lines = ts.sys.readFile(origin.fileName)!.split("\n");
    expect(lines[origin.line - 1]).toContain("declare var Set: SetConstructor;");
  });

  it("types code as the lib files do: the same diagnostics, and more than none", () => {
    const code = [
      "const s = new Set<number>([1]); s.add('x');",
      "const p: Promise<string> = Promise.all([1, 2]);",
      "[1, 2].findLast((x) => x > 1)?.toFixed(); [1].at(-1)!.foo;",
      "Object.groupBy([1], (x) => x);",
      "const w = new WeakRef({ a: 1 }); w.deref()?.b;",
      "new Error('e', { cause: 1 }).cause.length;",
      "const big: bigint = 1n + 1; Symbol.asyncIterator.description!.at(0);",
      "'abc'.replaceAll('a', 1); Array.from(new Map([[1, 'a']]).values()).map((v) => v * 2);",
      "const r = /a/d.exec('a')!.indices; Object.hasOwn({}, 1); structuredClone(1);",
    ].join("\n");
    const real = diagnostics(program(code, false));
    expect(real.length).toBeGreaterThan(5);
    expect(diagnostics(program(code, true))).toEqual(real);
  });

  it("leaves other libs a file references to be read as usual", () => {
    const code = `/// <reference lib="es2024" />\nObject.groupBy([1], (x) => x); new Set([1]).has(1);`;
    expect(diagnostics(program(code, true))).toEqual([]);
    expect(diagnostics(program(code, false))).toEqual([]);
  });
});
