/**
 * Notebook 04 (LSTM regularizers: permuted sequential MNIST, a Brown-corpus character model, zoneout masks)
 * runs in smoke budget through our headless runner and through Debian's nbclient with our kernelspec, in
 * parallel. At smoke budget no regularizer beats the unregularized LSTM robustly across seeds, so the
 * results are checked as recorded numbers in sane ranges, not as a direction.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { errors, hasJupyter, joinText, MINUTES, notebookPath, read, resultsText, runNbclient, runOursRead, tagged, textOf, type Notebook } from "./helpers.js";

const NB04 = notebookPath("04-rnn-zoneout.ipynb");

let ours: Notebook;
let theirs: Notebook | null = null;
beforeAll(async () => {
  const [a, b] = await Promise.all([runOursRead(NB04), hasJupyter ? runNbclient(NB04).then(read) : Promise.resolve(null)]);
  ours = a;
  theirs = b;
}, 30 * MINUTES);

describe.skipIf(!hasJupyter)("notebook 04 through nbclient", () => {
  it("runs with our kernelspec without error outputs", () => {
    expect(errors(theirs!)).toEqual([]);
    expect(resultsText(theirs!)).toMatch(/pMNIST error, zoneout/);
  });
});

describe("notebook 04 in smoke budget through our runner", () => {
  it("runs without error outputs", () => {
    expect(errors(ours)).toEqual([]);
  });

  it("records the test error of every pMNIST variant and the BPC of both language models", () => {
    const table = resultsText(ours);
    const pm = [...table.matchAll(/pMNIST error, (.+?)\s{2,}(\d\.\d{3}) \/ (\d\.\d{3})\s+(\.\d{3} \/ \.\d{3}|—)/g)];
    expect(pm.map((m) => m[1])).toEqual(["unregularized", "recurrent dropout p = 0.5", "zoneout z_c = z_h = 0.15", "variational dropout 0.25 on h"]);
    // Error fractions: above 0 and well below chance (0.9) after 10 epochs.
    for (const v of pm.flatMap((m) => [m[2], m[3]])) {
      expect(Number(v)).toBeGreaterThan(0);
      expect(Number(v)).toBeLessThan(0.7);
    }
    expect(pm[0]![4]).toBe(".092 / .102");
    expect(pm[2]![4]).toBe(".063 / .069");
    const lm = [...table.matchAll(/char LM BPC, (.+?)\s{2,}(\d\.\d{3}) \/ (\d\.\d{3})\s+(\d\.\d+ \/ \d\.\d+)/g)];
    expect(lm.map((m) => [m[1], m[4]])).toEqual([["unregularized", "1.466 / 1.356"], ["zoneout z_c = 0.5, z_h = 0.05", "1.362 / 1.27"]]);
    // Bits per character: above 1 and below the uniform code over the corpus's 85 characters (log2 85 ≈ 6.41).
    for (const v of lm.flatMap((m) => [m[2], m[3]])) {
      expect(Number(v)).toBeGreaterThan(1);
      expect(Number(v)).toBeLessThan(Math.log2(85));
    }
    expect(table).not.toMatch(/NaN|Infinity/);
  });

  it("fits the pMNIST training set fastest without a regularizer", () => {
    // Robust at smoke budget: over seeds 0, 1, 2 the unregularized final training loss (0.39–0.52) was below
    // every regularized one (zoneout 0.53–0.68, variational 0.61–0.83, recurrent dropout 0.87–0.99).
    const losses = new Map([...textOf(ours).matchAll(/^(.+?)\s+final train loss ([\d.]+), valid error/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect([...losses.keys()]).toEqual(["unregularized", "recurrent dropout p = 0.5", "zoneout z_c = z_h = 0.15", "variational dropout 0.25 on h"]);
    const plain = losses.get("unregularized")!;
    for (const [name, loss] of losses) if (name !== "unregularized") expect(loss, name).toBeGreaterThan(plain);
  });

  it("draws zoneout masks for h and c whose kept shares match z", () => {
    const text = textOf(ours);
    const pmShares = /pMNIST zoneout masks over 32 sequences: h holds its previous value in ([\d.]+) % of unit-steps, c in ([\d.]+) %/.exec(text);
    expect(pmShares).not.toBeNull();
    // 28 steps × 32 sequences × 64 units = 57,344 draws per state at z = 0.15: the binomial sd is 0.15 points;
    // the language model's 50 × 32 × 128 = 204,800 draws give sds of 0.05 (z = 0.05) and 0.11 points (z = 0.5).
    for (const v of pmShares!.slice(1)) expect(Math.abs(Number(v) - 15)).toBeLessThan(1);
    const lmShares = /character LM zoneout masks: h holds its previous value in ([\d.]+) % .*?, c in ([\d.]+) %/.exec(text);
    expect(lmShares).not.toBeNull();
    expect(Math.abs(Number(lmShares![1]) - 5)).toBeLessThan(1);
    expect(Math.abs(Number(lmShares![2]) - 50)).toBeLessThan(1);
    const heatmaps = ours.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.["image/png"] !== undefined);
    expect(heatmaps).toHaveLength(2);
    for (const o of heatmaps) expect(joinText(o.data!["text/plain"])).toMatch(/^Zoneout .*: rnn mask h and c \[\d+, \d+\]: held previous value [\d.]+%.*, updated [\d.]+%$/);
  });

  it("plots the four pMNIST runs and both language models, and times itself", () => {
    const svgs = ours.cells.flatMap((c) => c.outputs ?? []).map((o) => joinText(o.data?.["image/svg+xml"])).filter((s) => s !== "");
    expect(svgs).toHaveLength(2);
    for (const name of ["unregularized", "recurrent dropout p = 0.5", "zoneout z_c = z_h = 0.15", "variational dropout 0.25 on h"]) expect(svgs[0]).toContain(name);
    for (const name of ["unregularized", "zoneout z_c = 0.5, z_h = 0.05"]) expect(svgs[1]).toContain(name);
    expect(joinText(tagged(ours, "timing")[0]!.outputs![0]!.text)).toMatch(/wall time .* \(budget smoke\): [\d.]+ s; CPU time .*: [\d.]+ s/);
  });
});
