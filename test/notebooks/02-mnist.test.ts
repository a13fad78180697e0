/**
 * Notebook 02 (MNIST: Hinton 2012 / Srivastava 2014 Tables 2, 9, 10 and Figs. 7–10) runs in smoke budget
 * through our headless runner and, at the same time, through Debian's nbclient with our installed kernelspec.
 * Directions are asserted only where they held for seeds 0, 1 and 2 at smoke budget (checked by hand when the
 * notebook was written); the other results are checked to be recorded as finite numbers in sane ranges.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { errors, hasJupyter, joinText, MINUTES, notebookPath, read, resultsText, runNbclient, runOursRead, type Notebook, type Output } from "./helpers.js";

const NB02 = notebookPath("02-mnist.ipynb");

/** The results table's rows as { experiment: ours } (plain-text columns are separated by two or more spaces). */
function resultRows(nb: Notebook): Map<string, string> {
  const lines = resultsText(nb).split("\n").slice(3); // title, header, rule
  return new Map(lines.map((l) => l.split(/\s{2,}/)).map(([experiment, ours]) => [experiment!, ours ?? ""]));
}
/** The numbers in a cell of the table. */
const numbers = (s: string) => [...s.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
/** The ours column of the row whose label starts with `prefix`. */
function ours(rows: Map<string, string>, prefix: string): string {
  const hit = [...rows].find(([k]) => k.startsWith(prefix));
  expect(hit, `results row "${prefix}…"`).toBeDefined();
  return hit![1];
}
const outputs = (nb: Notebook): Output[] => nb.cells.flatMap((c) => c.outputs ?? []);
/** Outputs whose text/plain starts with `title`. */
const titled = (nb: Notebook, title: string) => outputs(nb).filter((o) => joinText(o.data?.["text/plain"]).startsWith(title));

describe("notebook 02 in smoke budget", () => {
  let nb: Notebook;
  let viaNbclient: Notebook | null;
  beforeAll(async () => {
    [nb, viaNbclient] = await Promise.all([runOursRead(NB02), hasJupyter ? runNbclient(NB02).then(read) : Promise.resolve(null)]);
  }, 30 * MINUTES);

  it.skipIf(!hasJupyter)("runs through nbclient with our kernelspec without error outputs", () => {
    expect(errors(viaNbclient!)).toEqual([]);
    expect(resultsText(viaNbclient!)).toContain("02 — MNIST (budget smoke, seed 0)");
  });

  it("runs through our runner without error outputs", () => {
    expect(errors(nb)).toEqual([]);
    expect(resultsText(nb)).toContain("02 — MNIST (budget smoke, seed 0)");
    expect(resultsText(nb)).not.toMatch(/NaN|Infinity/);
  });

  it("measures dropout's test error below the plain net's (784-800-800-10)", () => {
    const rows = resultRows(nb);
    const [plain] = numbers(ours(rows, "784-800-800-10, no dropout"));
    const [dropped] = numbers(ours(rows, "+ dropout 0.2 in, 0.5 hidden"));
    expect(plain).toBeGreaterThan(1);
    expect(plain).toBeLessThan(30);
    expect(dropped).toBeLessThan(plain!);
  });

  it("measures a sparser autoencoder code with dropout (Fig. 8)", () => {
    const rows = resultRows(nb);
    const [without, withDropout] = numbers(ours(rows, "Fig. 8 autoencoder mean activation"));
    expect(withDropout).toBeGreaterThan(0);
    expect(withDropout).toBeLessThan(without!);
    const [zerosWithout, zerosWith] = numbers(ours(rows, "Fig. 8 exact zeros"));
    expect(zerosWith).toBeGreaterThan(zerosWithout!);
    expect(zerosWith).toBeLessThan(100);
  });

  it("finds the best hidden keep probability inside 0.4–0.8 (Fig. 9a)", () => {
    const [p] = numbers(ours(resultRows(nb), "Fig. 9a best"));
    expect([0.4, 0.6, 0.8]).toContain(p);
  });

  it("records the other results as finite numbers in sane ranges", () => {
    const rows = resultRows(nb);
    const pct = (s: string) => [...s.matchAll(/(\d+(?:\.\d+)?) %/g)].map((m) => Number(m[1]));
    for (const prefix of ["+ dropout + max-norm", "Bernoulli vs Gaussian", "Fig. 9a best", "Fig. 9a test error", "Fig. 9b best"]) {
      const v = pct(ours(rows, prefix));
      expect(v.length, prefix).toBeGreaterThan(0);
      for (const e of v) expect(e > 0 && e < 50, `${prefix}: ${e}`).toBe(true);
    }
    for (const prefix of ["Fig. 9a best", "Fig. 9b best"]) {
      const [p] = numbers(ours(rows, prefix));
      expect(p! >= 0.2 && p! <= 1, `${prefix}: keep p ${p}`).toBe(true);
    }
    for (const prefix of ["Fig. 10 dropout gain at 100 images", "Fig. 10 dropout gain at 3000 images"]) {
      const [gain] = numbers(ours(rows, prefix));
      expect(Math.abs(gain!) < 50, `${prefix}: ${gain}`).toBe(true);
    }
  });

  it("draws the curves, features and activation histograms", () => {
    // Curves of the three main nets on one chart.
    const curves = outputs(nb).find((o) => joinText(o.data?.["image/svg+xml"]).includes("dropout + max-norm"));
    const svg = joinText(curves?.data?.["image/svg+xml"]);
    for (const name of ["no dropout", "dropout 0.2 in, 0.5 hidden", "dropout + max-norm"]) expect(svg).toContain(name);
    // Fig. 7: one PNG image grid per autoencoder.
    for (const which of ["without dropout", "with dropout"]) {
      const grids = titled(nb, `Fig. 7: 64 of 256 first-layer features, ${which}`);
      expect(grids).toHaveLength(1);
      expect(String(grids[0]!.data!["image/png"])).toMatch(/^iVBORw0KGgo/);
    }
    // Fig. 8: two histograms, each with both series and their means marked.
    for (const title of ["Fig. 8a", "Fig. 8b"]) {
      const [h] = titled(nb, title);
      const hsvg = joinText(h?.data?.["image/svg+xml"]);
      expect(hsvg).toContain("without dropout");
      expect(hsvg).toContain("with dropout");
      expect(hsvg.match(/class="mean-marker"/g)).toHaveLength(2);
    }
  });
});
