/**
 * The TypeScript compiler API, loaded with `require`: an ES module that imports typescript's 9 MB CommonJS
 * file makes Node scan all of it for module syntax and export names first, which costs more than loading it.
 * Its types come from `import type * as TS from "typescript"`.
 */
import { createRequire } from "node:module";
import type * as TS from "typescript";

export const ts: typeof TS = createRequire(import.meta.url)("typescript");
