#!/usr/bin/env node
/** Prints the results tables (outputs of cells tagged `results`) of executed notebooks as text. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const files = args.length === 1 && !args[0].endsWith(".ipynb")
  ? readdirSync(args[0]).filter((f) => f.endsWith(".ipynb")).sort().map((f) => join(args[0], f))
  : args;
if (files.length === 0) {
  console.error("usage: print-results.mjs DIR | NOTEBOOK.ipynb...");
  process.exit(2);
}
const text = (v) => (Array.isArray(v) ? v.join("") : String(v ?? ""));
let missing = 0;
for (const file of files) {
  const nb = JSON.parse(readFileSync(file, "utf8"));
  const wall = nb.metadata?.dropout_lab?.wall_seconds;
  console.log(`\n== ${file}${typeof wall === "number" ? ` (${wall.toFixed(1)} s)` : ""}`);
  const cells = nb.cells.filter((c) => c.cell_type === "code" && c.metadata?.tags?.includes("results"));
  const shown = cells.flatMap((c) => c.outputs ?? []).map((o) =>
    o.output_type === "stream" ? text(o.text) : o.output_type === "error" ? `${o.ename}: ${o.evalue}` : text(o.data?.["text/plain"]));
  if (shown.length === 0) {
    console.log("(no results: the notebook has no executed cell tagged `results`)");
    missing++;
  }
  for (const s of shown) console.log(s);
}
process.exit(missing ? 1 : 0);
