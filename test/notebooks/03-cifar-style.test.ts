/**
 * Notebook 03 (conv nets with dropout on the CIFAR-style set) runs in smoke budget through our headless runner
 * and through Debian's nbclient, in parallel. At smoke budget the order of the five runs' test errors is not
 * robust across seeds, so the test checks that every number is recorded and sane, that the no-dropout net
 * overfits (the regime where dropout can help), and the displays' structure.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { errors, hasJupyter, joinText, MINUTES, notebookPath, read, resultsText, runNbclient, runOursRead, tagged, textOf, type Notebook } from "./helpers.js";

const NB03 = notebookPath("03-cifar-style.ipynb");
const RUNS = ["no dropout", "dropout in FC layers", "dropout in all layers", "Dropout2d + FC dropout", "DropBlock 3×3 + FC dropout"];
/** Train and test error (the first two numbers) of a run's row in the results table. */
const row = (table: string, name: string) => new RegExp(`^${name.replace(/[+]/g, "\\+")}\\s+([\\d.]+)\\s+([\\d.]+)\\s+(\\S+)`, "m").exec(table);

let ours: Notebook;
let viaNbclient: Notebook | undefined;
beforeAll(async () => {
  const [a, b] = await Promise.all([runOursRead(NB03), hasJupyter ? runNbclient(NB03).then(read) : Promise.resolve(undefined)]);
  ours = a;
  viaNbclient = b;
}, 30 * MINUTES);

describe.skipIf(!hasJupyter)("notebook 03 through nbclient", () => {
  it("runs with our kernelspec without error outputs and shows its results", () => {
    expect(errors(viaNbclient!)).toEqual([]);
    expect(resultsText(viaNbclient!)).toContain("Table 4");
  });
});

describe("notebook 03 in smoke budget through our runner", () => {
  it("has no error outputs and says which data it used", () => {
    expect(errors(ours)).toEqual([]);
    expect(textOf(ours)).toContain("budget smoke: the synthetic CIFAR-style set (not CIFAR-10)");
    expect(resultsText(ours)).toContain("ours on the synthetic CIFAR-style set (not CIFAR-10)");
  });

  it("records train and test error of all five runs beside the paper's numbers", () => {
    const table = resultsText(ours);
    const rows = RUNS.map((name) => row(table, name));
    for (const [i, m] of rows.entries()) {
      expect(m, RUNS[i]).not.toBeNull();
      const [train, test] = [Number(m![1]), Number(m![2])];
      // Chance is 90 % error; at this budget the all-layer dropout net is still near it (80–86 % over seeds
      // 0–2), the others well below, and none near perfect on a few hundred training images.
      expect(train).toBeGreaterThanOrEqual(0);
      expect(train).toBeLessThan(93);
      expect(test).toBeGreaterThan(20);
      expect(test).toBeLessThan(93);
    }
    expect(rows.map((m) => m![3])).toEqual(["14.98", "14.32", "12.61", "—", "—"]);
    expect(table).not.toMatch(/NaN|Infinity/);
  });

  it("shows the no-dropout net overfitting, and FC dropout narrowing the train–test gap", () => {
    const gap = (name: string) => {
      const m = row(resultsText(ours), name)!;
      return Number(m[2]) - Number(m[1]);
    };
    // Seeds 0–2 by hand: gaps of about 60 points without dropout, 30–47 with FC dropout (their test errors,
    // though, are not lower at this budget).
    expect(gap("no dropout")).toBeGreaterThan(40);
    expect(gap("dropout in FC layers")).toBeLessThan(gap("no dropout") - 5);
  });

  it("draws sample images, a loss plot of the five runs and three mask heatmaps", () => {
    const outputs = ours.cells.flatMap((c) => c.outputs ?? []);
    const pngs = outputs.filter((o) => typeof o.data?.["image/png"] === "string");
    expect(pngs.length).toBe(4); // sample grid + three masks
    const svg = joinText(outputs.find((o) => o.data?.["image/svg+xml"])?.data?.["image/svg+xml"]);
    for (const name of RUNS) expect(svg).toContain(name);
    const masks = outputs.map((o) => joinText(o.data?.["text/plain"])).filter((t) => t.includes("mask after conv block 1"));
    expect(masks).toHaveLength(3);
    for (const t of masks) expect(t).toMatch(/conv mask \[4, \d+, 16, 16\]: kept [\d.]+%/);
  });

  it("reports kept fractions near 1 − p for the conv-layer masks", () => {
    const lines = [...textOf(ours).matchAll(/kept ([\d.]+) % \(expected about (\d+) %\)/g)];
    expect(lines).toHaveLength(3);
    // Unit-wise dropout and DropBlock draw thousands of units; Dropout2d only 4 × channels values.
    for (const [, kept, expected] of lines) expect(Math.abs(Number(kept) - Number(expected))).toBeLessThan(25);
  });

  it("prints its wall time in the timing cell", () => {
    expect(joinText(tagged(ours, "timing")[0]?.outputs?.[0]?.text)).toMatch(/wall time of this notebook's computation \(budget smoke\): [\d.]+ s/);
  });
});
