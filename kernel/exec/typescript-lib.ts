/**
 * The default library as one file. TypeScript's lib for ES2023 is some 60 files (lib.es5.d.ts,
 * lib.es2015.core.d.ts, ...) that declare the same globals in parts (Array in a dozen of them): every new
 * program looks up each file's package scope again, and its checker merges the files' globals again, file by
 * file, cloning each symbol declared in more than one. A cell is checked in a new program, so that was most of
 * a trivial cell's check. The same declarations in one file, in the order TypeScript loads the files, are
 * merged once, when that file is bound, and a new program has 60 files fewer to go through.
 *
 * The files the bundle holds read as empty (a reference to one of them, as @types/node's to es2020, adds
 * nothing more); any other lib a cell references (`/// <reference lib="dom" />`) is read as usual.
 */
import path from "node:path";
import type * as TS from "typescript";
import { ts } from "./typescript-api.js";

export interface LibBundle {
  /** The bundle's path, in TypeScript's lib folder. */
  fileName: string;
  /** Its name as the `lib` option takes it. */
  name: string;
  text: string;
  /** The lib files it holds, in order, each with the offset of its text in the bundle. */
  parts: { fileName: string; start: number }[];
  /** Their paths. */
  covered: Set<string>;
}

const NAME = "lib.dropout-lab.d.ts";

/**
 * The bundle of the default library `options.lib` selects. TypeScript itself finds the files and their order,
 * in a program over an empty file that reads only each lib file's `///` directives.
 */
export function libBundle(options: TS.CompilerOptions): LibBundle {
  const directory = path.dirname(ts.getDefaultLibFilePath(options));
  const root = path.join(directory, "__dropout_lab_probe__.ts");
  const host = ts.createCompilerHost(options);
  host.getSourceFile = (fileName, languageVersion) => {
    const text = fileName === root ? "" : ts.sys.readFile(fileName);
    if (text === undefined) return undefined;
    return ts.createSourceFile(fileName, text.match(/^\/\/\/.*$/gm)?.join("\n") ?? "", languageVersion);
  };
  const probe = ts.createProgram({ rootNames: [root], options: { ...options, types: [], noEmit: true }, host });
  const files = probe.getSourceFiles().filter((f) => probe.isSourceFileDefaultLibrary(f)).map((f) => f.fileName);
  if (files.length === 0) throw new Error(`no lib files found for lib ${JSON.stringify(options.lib)} in ${directory}`);
  const parts: LibBundle["parts"] = [];
  let text = "";
  for (const fileName of files) {
    parts.push({ fileName, start: text.length });
    // `/// <reference lib=...>` becomes a plain comment of the same length: the referenced files are here.
    text += ts.sys.readFile(fileName)!.replace(/^\/\/\/(?=\s*<reference\s+lib=)/gm, "// ") + "\n";
  }
  return { fileName: path.join(directory, NAME), name: NAME, text, parts, covered: new Set(files) };
}

/** The lib file an offset in the bundle comes from, and the (1-based) line there. */
export function libOrigin(bundle: LibBundle, offset: number): { fileName: string; line: number } {
  let part = bundle.parts[0]!;
  for (const p of bundle.parts) if (p.start <= offset) part = p;
  return { fileName: part.fileName, line: bundle.text.slice(part.start, offset).split("\n").length };
}
