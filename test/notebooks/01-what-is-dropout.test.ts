/**
 * Notebook 01 runs in smoke budget through our headless runner (`dropout-lab run`) and through Debian's
 * nbclient with our installed kernelspec; its results are checked, and it is rerun to check that the same seed
 * gives byte-identical outputs (the cell tagged `timing`, which prints the wall time, excepted). The other
 * notebooks have a test file each beside this one.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { errors, hasJupyter, joinText, MINUTES, notebookPath, read, resultsText, root, run, runNbclient, runOurs, tagged, textOf, type Notebook } from "./helpers.js";

const NB01 = notebookPath("01-what-is-dropout.ipynb");

describe.skipIf(!hasJupyter)("notebook 01 through nbclient", () => {
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
    const table = resultsText(first);
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
