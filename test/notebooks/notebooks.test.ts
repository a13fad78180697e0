/**
 * The notebooks run in smoke budget through our headless runner (`dropout-lab run`) and through Debian's
 * nbclient with our installed kernelspec; their results are checked, and notebook 01 is rerun to check that the
 * same seed gives byte-identical outputs (the cell tagged `timing`, which prints the wall time, excepted).
 * Slow on this 2-core machine: every run of 01 takes minutes; the three runs go in parallel.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const cli = join(root, "dist/kernel/cli.js");
const NB01 = join(root, "notebooks/01-what-is-dropout.ipynb");
const MINUTES = 60_000;

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown>; ename?: string; evalue?: string }
interface Cell { cell_type: string; metadata: { tags?: string[] }; outputs?: Output[] }
interface Notebook { cells: Cell[] }

const read = (path: string): Notebook => JSON.parse(readFileSync(path, "utf8")) as Notebook;
const join_ = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v ?? ""));
/** All text of a notebook's outputs: streams, text/plain, errors. */
const textOf = (nb: Notebook) =>
  nb.cells.flatMap((c) => c.outputs ?? []).map((o) => (o.output_type === "stream" ? join_(o.text) : join_(o.data?.["text/plain"]))).join("\n");
const errors = (nb: Notebook) => nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "error");
const tagged = (nb: Notebook, tag: string) => nb.cells.filter((c) => c.metadata.tags?.includes(tag));

/** Runs notebooks through our runner into a fresh directory; resolves with that directory. */
async function runOurs(notebooks: string[], params: string[] = []): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "dl-notebooks-"));
  await run("node", [cli, "run", ...notebooks, ...params.flatMap((p) => ["-p", p]), "-o", out], { cwd: root, maxBuffer: 64 << 20 });
  return out;
}

/** Runs one notebook through Debian's nbconvert/nbclient with our kernelspec installed into a temporary prefix. */
async function runNbclient(notebook: string): Promise<string> {
  const prefix = mkdtempSync(join(tmpdir(), "dl-prefix-"));
  await run("node", [cli, "install", "--prefix", prefix], { cwd: root });
  const out = mkdtempSync(join(tmpdir(), "dl-nbclient-"));
  await run("/usr/bin/jupyter", [
    "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=dropout-lab",
    "--ExecutePreprocessor.timeout=1800", "--output-dir", out, notebook,
  ], { cwd: root, env: { ...process.env, JUPYTER_PATH: join(prefix, "share/jupyter") }, maxBuffer: 64 << 20 });
  return join(out, notebook.split("/").pop()!);
}

describe.skipIf(!existsSync("/usr/bin/jupyter"))("notebook 01 through nbclient", () => {
  it("runs with our kernelspec without error outputs", async () => {
    const nb = read(await runNbclient(NB01));
    expect(errors(nb)).toEqual([]);
    expect(tagged(nb, "results")[0]!.outputs!.length).toBeGreaterThan(0);
  }, 30 * MINUTES);
});

describe("notebook 01 in smoke budget through our runner", () => {
  let first: Notebook;
  let second: Notebook;
  beforeAll(async () => {
    const [a, b] = await Promise.all([runOurs([NB01], ["budget=smoke", "seed=0"]), runOurs([NB01], ["budget=smoke", "seed=0"])]);
    first = read(join(a, "01-what-is-dropout.ipynb"));
    second = read(join(b, "01-what-is-dropout.ipynb"));
  }, 30 * MINUTES);

  it("records its results", () => {
    expect(errors(first)).toEqual([]);
    const table = join_(tagged(first, "results")[0]!.outputs![0]!.data!["text/plain"]);
    // The no-dropout net memorises the noisy training labels; with dropout 0.5 it does not.
    const memo = /train error, no dropout → dropout.*?\s([\d.]+) % → ([\d.]+) %/.exec(table);
    expect(memo).not.toBeNull();
    expect(Number(memo![1])).toBe(0);
    expect(Number(memo![2])).toBeGreaterThan(2);
    // Test errors and the MC/weight-scaling comparison are recorded as finite numbers (their order is not
    // asserted: at this budget it is not robust across seeds).
    const test = /test error, no dropout → dropout 0\.5 hidden\s+([\d.]+) % → ([\d.]+) %/.exec(table);
    expect(test).not.toBeNull();
    for (const v of test!.slice(1)) expect(Number.isFinite(Number(v)) && Number(v) > 0 && Number(v) < 50).toBe(true);
    expect(table).toMatch(/weight scaling vs MC \(k = \d+\) test error, first \d+ test inputs\s+[\d.]+ % vs [\d.]+ %/);
    expect(table).not.toMatch(/NaN|Infinity/);
  });

  it("shows that the classic twin of the inverted net computes the same function", () => {
    const m = /test mode ([\d.e+-]+), training mode \(same masks\) ([\d.e+-]+)/.exec(textOf(first));
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(1e-4);
    expect(Number(m![2])).toBeLessThan(1e-4);
  });

  it("gives byte-identical outputs when rerun with the same seed (timing cell excepted)", () => {
    const outputs = (nb: Notebook) => JSON.stringify(nb.cells.filter((c) => !c.metadata.tags?.includes("timing")).map((c) => c.outputs ?? []));
    expect(tagged(first, "timing")).toHaveLength(1);
    expect(outputs(first)).toBe(outputs(second));
    expect(outputs(first).length).toBeGreaterThan(10_000);
  });
});

describe("print-results", () => {
  it("prints the results table of each executed notebook in a directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dl-print-"));
    // A notebook with one results cell, as the runner writes it.
    const nb = { nbformat: 4, nbformat_minor: 5, metadata: { dropout_lab: { wall_seconds: 1.5 } }, cells: [
      { cell_type: "code", metadata: { tags: ["results"] }, source: "", outputs: [{ output_type: "execute_result", data: { "text/plain": ["a  b\n", "1  2"] } }] },
    ] };
    writeFileSync(join(dir, "x.ipynb"), JSON.stringify(nb));
    const { stdout } = await run("node", [join(root, "scripts/print-results.mjs"), dir]);
    expect(stdout).toContain("x.ipynb (1.5 s)");
    expect(stdout).toContain("a  b\n1  2");
    // A notebook without results makes it fail, naming the defect.
    writeFileSync(join(dir, "y.ipynb"), JSON.stringify({ ...nb, cells: [] }));
    await expect(run("node", [join(root, "scripts/print-results.mjs"), dir])).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining("no results") });
  });
});
