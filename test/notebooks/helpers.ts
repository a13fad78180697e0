/**
 * Shared helpers for the notebook tests: run a notebook through our headless runner (`dropout-lab run`) or
 * through Debian's nbclient with our kernelspec installed into a temporary prefix, and read what it produced.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

export const run = promisify(execFile);
export const root = resolve(import.meta.dirname, "../..");
export const cli = join(root, "dist/kernel/cli.js");
export const MINUTES = 60_000;
export const hasJupyter = existsSync("/usr/bin/jupyter");

export interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown>; ename?: string; evalue?: string }
export interface Cell { cell_type: string; metadata: { tags?: string[] }; source?: string | string[]; outputs?: Output[] }
export interface Notebook { cells: Cell[]; metadata: Record<string, unknown> }

export const notebookPath = (name: string) => join(root, "notebooks", name);
export const read = (path: string): Notebook => JSON.parse(readFileSync(path, "utf8")) as Notebook;
export const joinText = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v ?? ""));
/** All text of a notebook's outputs: streams, text/plain, errors. */
export const textOf = (nb: Notebook) =>
  nb.cells.flatMap((c) => c.outputs ?? []).map((o) => (o.output_type === "stream" ? joinText(o.text) : joinText(o.data?.["text/plain"]))).join("\n");
export const errors = (nb: Notebook) => nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "error");
export const tagged = (nb: Notebook, tag: string) => nb.cells.filter((c) => c.metadata.tags?.includes(tag));
/** The text/plain of the first output of the cell tagged `results`. */
export const resultsText = (nb: Notebook) => joinText(tagged(nb, "results")[0]?.outputs?.[0]?.data?.["text/plain"]);

/** Runs notebooks through our runner into a fresh directory; resolves with that directory. */
export async function runOurs(notebooks: string[], params: string[] = []): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "dl-notebooks-"));
  await run("node", [cli, "run", ...notebooks, ...params.flatMap((p) => ["-p", p]), "-o", out], { cwd: root, maxBuffer: 64 << 20 });
  return out;
}

/** Runs one notebook through our runner (smoke budget unless `params` say otherwise) and reads the result. */
export async function runOursRead(notebook: string, params: string[] = ["budget=smoke"]): Promise<Notebook> {
  return read(join(await runOurs([notebook], params), notebook.split("/").pop()!));
}

/** Runs one notebook through Debian's nbconvert/nbclient with our kernelspec; resolves with the executed file. */
export async function runNbclient(notebook: string): Promise<string> {
  const prefix = mkdtempSync(join(tmpdir(), "dl-prefix-"));
  await run("node", [cli, "install", "--prefix", prefix], { cwd: root });
  const out = mkdtempSync(join(tmpdir(), "dl-nbclient-"));
  await run("/usr/bin/jupyter", [
    "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=dropout-lab",
    "--ExecutePreprocessor.timeout=1800", "--output-dir", out, notebook,
  ], { cwd: root, env: { ...process.env, JUPYTER_PATH: join(prefix, "share/jupyter") }, maxBuffer: 64 << 20 });
  return join(out, notebook.split("/").pop()!);
}
