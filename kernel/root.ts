/** This package's root folder, found from the sources or from dist/ alike. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

let root: string | undefined;

/** The nearest folder above this file whose package.json names `dropout-lab`. */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "dropout-lab") {
      return (root = dir);
    }
    if (dirname(dir) === dir) throw new Error(`dropout-lab: no package.json above ${import.meta.dirname}`);
  }
}
