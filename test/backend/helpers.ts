// Shared test helpers: deterministic data and a plain-JavaScript copy of the library for child processes and
// worker threads (which cannot load TypeScript sources).
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const root = fileURLToPath(new URL("../..", import.meta.url));

/** n floats in [-1, 1) from a small linear congruential generator (test data only). */
export function data(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

/** Indices where two arrays differ bitwise (so -0 ≠ 0), at most `limit` of them. */
export function bitDiff(a: Float32Array, b: Float32Array, limit = 5): number[] {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  if (a.length !== b.length) return [-1];
  for (let i = 0; i < a.length && out.length < limit; i++) if (ua[i] !== ub[i]) out.push(i);
  return out;
}

let compiled: { dir: string; index: string } | null = null;

/**
 * Transpiles src/backend and src/random to JavaScript in a temporary directory (with build/ linked to the
 * repository's WebAssembly) and returns the path of backend/index.js there.
 */
export function compiledBackend(): string {
  if (compiled) return compiled.index;
  const dir = mkdtempSync(join(tmpdir(), "dropout-lab-backend-"));
  for (const sub of ["src/backend", "src/random"]) {
    mkdirSync(join(dir, sub), { recursive: true });
    for (const f of readdirSync(join(root, sub))) {
      if (!f.endsWith(".ts")) continue;
      const js = ts.transpileModule(readFileSync(join(root, sub, f), "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(join(dir, sub, f.replace(/\.ts$/, ".js")), js);
    }
  }
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }');
  symlinkSync(join(root, "build"), join(dir, "build"));
  compiled = { dir, index: join(dir, "src/backend/index.js") };
  return compiled.index;
}

/** Removes the directory made by compiledBackend. */
export function removeCompiledBackend(): void {
  if (compiled) rmSync(compiled.dir, { recursive: true, force: true });
  compiled = null;
}
