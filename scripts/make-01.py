"""Writes notebooks/01-what-is-dropout.ipynb (sources only; outputs come from `dropout-lab run`)."""
import json, sys

cells = []
def md(s): cells.append({"cell_type": "markdown", "metadata": {}, "source": s.strip("\n")})
def code(s, tags=None):
    cells.append({"cell_type": "code", "metadata": {"tags": tags} if tags else {}, "source": s.strip("\n"), "outputs": [], "execution_count": None})

md(r"""
# 01 — What is dropout?

A network with many more weights than training examples can **memorise** its training set — noise included —
and then generalise poorly. *Dropout* (Hinton et al. 2012; Srivastava et al. 2014) fights this by deleting
each hidden unit at random, with probability `p`, at every training step. No unit can rely on particular
other units being present, so co-adapted "feature detectors" cannot form. At test time the whole network is
used, with activations scaled so each unit's *expected* input is the same as in training.

This notebook makes that story runnable:

1. an MLP that memorises a small noisy training set, and the same MLP with dropout (train/validation curves);
2. the masks the dropout layers actually drew;
3. inverted vs classic scaling: the same predictions, measured;
4. the ensemble view: Monte-Carlo averaging of `k` thinned networks vs weight scaling (Srivastava Fig. 11);
5. per-layer rates, and rates that are too low or too high.

Every number below comes from running the code; all randomness flows from `seed`, so a rerun is
byte-identical.
""")

code(r'''
let budget: "smoke" | "full" = "smoke";
let seed = 0;
''', ["parameters"])

md(r"""
## The task: a noisy rule in 10 dimensions

Inputs are 10 standard-normal features; the true label is 1 when the alternating sum
x₀ − x₁ + x₂ − … is positive. In the **training** set 20% of the labels are flipped — noise a large network
can memorise but should not learn. The validation and test sets carry the true labels, so their error
measures how well the *rule* was learned. (A synthetic task keeps the smoke budget small on a 2-core machine;
notebook 02 does MNIST.)
""")

code(r'''
import {
  Sequential, Linear, Dropout, Adam, Tensor, fit, evaluate, mcPredict, noGrad,
  key, foldIn, randn, random, plot, type Key, type Dataset, type History,
} from "dropout-lab";

const started = performance.now();
const cfg = budget === "full"
  ? { nTrain: 1000, epochs: 100, nTest: 10000, nMC: 10000, mcMax: 200 }
  : { nTrain: 200, epochs: 40, nTest: 2000, nMC: 1000, mcMax: 50 };
const D = 10, H = 128, FLIP = 0.2;
const root = key(seed);

/** n examples; label = [Σ ±x_j > 0], flipped with probability `flip`. */
function noisyRule(k: Key, n: number, flip: number): Dataset {
  const x = randn(foldIn(k, 0), [n, D]);
  const u = random.uniform(foldIn(k, 1), [n]);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += x.data[i * D + j]! * (j % 2 ? -1 : 1);
    y[i] = (s > 0) !== (u.data[i]! < flip) ? 1 : 0;
  }
  return { x, y: new Tensor(y, [n]) };
}
const trainSet = noisyRule(foldIn(root, 1), cfg.nTrain, FLIP);
const valSet = noisyRule(foldIn(root, 2), 1000, 0);
const testSet = noisyRule(foldIn(root, 3), cfg.nTest, 0);
console.log(`budget ${budget}: ${cfg.nTrain} training examples (${100 * FLIP}% labels flipped), 1000 validation, ${cfg.nTest} test; ${cfg.epochs} epochs`);
''')

md(r"""
## Memorising vs generalising

The network is 10-128-128-2 with ReLUs, trained with Adam (lr 5·10⁻³, batches of 50). `mlp` puts a
`Dropout` after the input and after each hidden layer when asked; the weights start from the same keys in
every variant, so the runs differ only by dropout.
""")

code(r'''
interface Rates { input?: number; hidden?: number }
interface Build { mode?: "inverted" | "classic"; recordMasks?: boolean }

function mlp({ input = 0, hidden = 0 }: Rates, { mode = "inverted", recordMasks = false }: Build = {}): Sequential {
  const k = foldIn(root, 10);
  const drop = (p: number, i: number) => (p > 0 ? [new Dropout(p, { key: foldIn(k, 100 + i), mode, recordMasks })] : []);
  return new Sequential(
    ...drop(input, 0),
    new Linear(D, H, { activation: "relu", init: "he", key: foldIn(k, 1) }),
    ...drop(hidden, 1),
    new Linear(H, H, { activation: "relu", init: "he", key: foldIn(k, 2) }),
    ...drop(hidden, 2),
    new Linear(H, 2, { key: foldIn(k, 3) }),
  );
}

async function train(model: Sequential, withValidation = false, epochs = cfg.epochs): Promise<History> {
  return fit(model, trainSet, {
    epochs, batchSize: 50, key: foldIn(root, 20),
    optimizer: new Adam(model.parameters(), { lr: 5e-3 }),
    validation: withValidation ? valSet : undefined,
  });
}

/** Classification error in % of a [N, C] score tensor against labels. */
function errorOf(scores: Tensor, labels: Tensor): number {
  const [N, C] = scores.shape as [number, number];
  let wrong = 0;
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let j = 1; j < C; j++) if (scores.data[i * C + j]! > scores.data[i * C + best]!) best = j;
    if (best !== labels.data[i]) wrong++;
  }
  return (100 * wrong) / N;
}
const errorPct = (model: Sequential, d: Dataset) => 100 * (1 - evaluate(model, d).accuracy!);

const plain = mlp({});
const dropped = mlp({ hidden: 0.5 }, { recordMasks: true });
const hPlain = await train(plain, true);
const hDropped = await train(dropped, true);
const curves = {
  plain: { train: errorPct(plain, trainSet), test: errorPct(plain, testSet), valLoss: hPlain.epochs.at(-1)!.valLoss! },
  dropout: { train: errorPct(dropped, trainSet), test: errorPct(dropped, testSet), valLoss: hDropped.epochs.at(-1)!.valLoss! },
};
// History's EpochLog is an interface without an index signature, so it does not type-check as plot.HistoryLike; copy the rows.
const asCurves = (h: History): plot.HistoryLike => ({ epochs: h.epochs.map((e) => ({ ...e })) });
plot.lossPlot({ "no dropout": asCurves(hPlain), "dropout 0.5 (hidden)": asCurves(hDropped) }, {
  title: "10-128-128-2 MLP on a noisy rule: training (dropout active) vs validation",
  metrics: ["loss", "error"],
})
''')

code(r'''
plot.resultsTable([
  { model: "no dropout", "train error %": curves.plain.train, "test error %": curves.plain.test, "final val loss": curves.plain.valLoss },
  { model: "dropout 0.5 on hidden", "train error %": curves.dropout.train, "test error %": curves.dropout.test, "final val loss": curves.dropout.valLoss },
], { title: `After ${cfg.epochs} epochs (train error measured in evaluation mode; ${100 * FLIP}% of training labels are wrong)`, digits: 3 })
''')

md(r"""
Without dropout the training error falls towards 0 % — below the 20 % of flipped labels, so the network has
memorised noise — while its validation loss climbs after the first epochs. With dropout the training error
stays near the noise level and the validation loss stays low: the net learns the rule, not the noise.

## The masks

Each `Dropout` owns a key stream and draws a fresh mask per training step; with `recordMasks: true` it keeps
the last one. One training-mode forward pass over 32 examples shows what the two hidden dropout layers drew
(yellow = kept, purple = dropped).
""")

code(r'''
const dropLayers = dropped.modules().filter((m): m is Dropout => m instanceof Dropout);
dropped.train();
noGrad(() => dropped.forward(new Tensor(testSet.x.data.slice(0, 32 * D), [32, D])));
dropped.eval();
for (const [i, layer] of dropLayers.entries()) {
  display(plot.maskHeatmap(layer.lastMask!, { title: `dropout layer ${i + 1} (p = ${layer.p}): 32 examples × ${H} units`, maxWidth: 640, maxHeight: 160 }));
}
const keptFraction = dropLayers.map((l) => l.lastMask!.data.reduce((a, v) => a + v, 0) / l.lastMask!.size);
console.log(`kept fraction per layer: ${keptFraction.map((f) => f.toFixed(4)).join(", ")} (expected 0.5)`);
''')

md(r"""
## Inverted vs classic scaling

Two ways to keep a unit's expected input the same in training and at test time:

* **classic** (Hinton et al. 2012): keep units unscaled during training; at test time multiply by the keep
  probability 1 − p ("weight scaling");
* **inverted** (what PyTorch and this library do by default): divide kept units by 1 − p during training;
  use the network unchanged at test time.

They are the same model up to a reparametrisation: a classic net whose layers after a dropout carry weights
W / (1 − p) computes exactly what the inverted net with W computes — with the same masks in training, and at
test time. We build the classic twin of the trained dropout net and measure the difference. Then, for one
layer, the average over k masks of the training-mode output approaches the test-time output in both modes
(the "in expectation" of the scaling rules).
""")

code(r'''
const classic = mlp({ hidden: 0.5 }, { mode: "classic" });
const state = dropped.stateDict();
const twin: Record<string, Tensor> = {};
const afterDropout = new Set(["2.weight", "4.weight"]); // the Linear layers fed by a dropout layer (Sequential children 2 and 4)
for (const [name, t] of Object.entries(state)) {
  twin[name] = afterDropout.has(name) ? new Tensor(t.data.map((v) => v / (1 - 0.5)), t.shape) : t;
}
classic.loadStateDict(twin);
classic.eval();
const maxAbsDiff = (a: Tensor, b: Tensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);
const evalDiff = noGrad(() => maxAbsDiff(dropped.forward(testSet.x), classic.forward(testSet.x)));
// Training mode with the same masks: restart both nets' dropout streams from the same keys.
const dropoutsOf = (m: Sequential) => m.modules().filter((l): l is Dropout => l instanceof Dropout);
for (const m of [dropped, classic]) dropoutsOf(m).forEach((l, i) => l.stream.reset(foldIn(root, 31 + i)));
dropped.train(); classic.train();
const trainDiff = noGrad(() => maxAbsDiff(dropped.forward(testSet.x), classic.forward(testSet.x)));
dropped.eval(); classic.eval();
console.log(`classic twin vs inverted net, max |Δ logit| over ${cfg.nTest} test inputs: test mode ${evalDiff.toExponential(2)}, training mode (same masks) ${trainDiff.toExponential(2)}`);

// One layer in expectation: mean over k masks of dropout(h) vs the test-time output.
const first200 = new Tensor(valSet.x.data.slice(0, 200 * D), [200, D]);
const h = noGrad(() => (dropped.modules()[1] as Linear).forward(first200)); // first hidden layer, [200, 128]
const expectation: { k: number; inverted: number; classic: number }[] = [];
for (const mode of ["inverted", "classic"] as const) {
  const layer = new Dropout(0.5, { key: foldIn(root, 30), mode });
  const target = noGrad(() => (layer.eval(), layer.forward(h)));
  layer.train();
  const sum = new Float64Array(h.size);
  let k = 0;
  for (const checkpoint of [1, 10, 100, 1000]) {
    for (; k < checkpoint; k++) {
      const y = noGrad(() => layer.forward(h)).data;
      for (let i = 0; i < y.length; i++) sum[i] += y[i]!;
    }
    let num = 0, den = 0;
    for (let i = 0; i < h.size; i++) { num += Math.abs(sum[i]! / k - target.data[i]!); den += Math.abs(target.data[i]!); }
    const row = expectation.find((r) => r.k === k) ?? (expectation.push({ k, inverted: 0, classic: 0 }), expectation.at(-1)!);
    row[mode] = num / den;
  }
}
plot.resultsTable(expectation.map((r) => ({ "masks averaged k": r.k, "inverted: rel. deviation": r.inverted, "classic: rel. deviation": r.classic })),
  { title: "Mean over k masks of the training-mode output vs the test-time output (Σ|mean − test| / Σ|test|, first hidden layer, 200 inputs)", digits: 3 })
''')

md(r"""
The twin agrees to the last bit here (dividing by 1 − 0.5 is exact in floating point; other rates would
differ by float rounding), and the deviation of the k-mask average shrinks like 1/√k in both modes
(×10 more masks, about ×3.2 smaller): both rules give the test-time network the training network's
expected activations.

## The ensemble view: Monte-Carlo averaging vs weight scaling

A net with n droppable units is a family of 2ⁿ "thinned" networks sharing weights; dropout trains a random
one at each step. The principled prediction averages them all. `mcPredict` samples k thinned networks and
averages their softmax outputs; weight scaling (test mode) is a one-pass approximation. Srivastava et al.
(Fig. 11) found the MC average needs about k ≈ 50 samples to match weight scaling on MNIST. Below, the
error of the MC average for growing k (the passes for k reuse the keys of the passes for smaller k) against
the single weight-scaled pass.
""")

code(r'''
const ks = [1, 2, 3, 5, 10, 20, 50, 100, 200].filter((k) => k <= cfg.mcMax);
const mcKey = foldIn(root, 40);
const mcSet = { x: new Tensor(testSet.x.data.slice(0, cfg.nMC * D), [cfg.nMC, D]), y: new Tensor(testSet.y.data.slice(0, cfg.nMC), [cfg.nMC]) };
const mcErrors = ks.map((k) => errorOf(mcPredict(dropped, mcSet.x, { samples: k, key: mcKey, probabilities: true }).mean, mcSet.y));
const wsError = errorOf(noGrad(() => dropped.forward(mcSet.x)), mcSet.y);
const kMatch = ks.find((k, i) => mcErrors.slice(i).every((e) => e <= wsError + 0.5)) ?? null;
console.log(`weight scaling: ${wsError.toFixed(2)} %; MC: ${ks.map((k, i) => `k=${k}: ${mcErrors[i]!.toFixed(2)} %`).join(", ")}`);
console.log(`smallest k from which MC stays within 0.5 points of weight scaling: ${kMatch ?? `none up to ${cfg.mcMax}`}`);
plot.lossPlot([
  { name: "Monte-Carlo average of k thinned nets", x: ks, y: mcErrors },
  { name: "weight scaling (one pass)", x: ks, y: ks.map(() => wsError) },
], { title: `Test error vs number of MC samples k (first ${cfg.nMC} test inputs)`, xLabel: "samples k", yLabel: "test error %" })
''')

md(r"""
## Per-layer rates

Dropout need not be the same everywhere: Srivastava et al. use keep probability 0.8 on inputs and 0.5 on
hidden units. Inputs carry the information, so they are dropped less.
""")

code(r'''
const layerRuns: { setting: string; rates: Rates }[] = [
  { setting: "none", rates: {} },
  { setting: "input 0.2 only", rates: { input: 0.2 } },
  { setting: "hidden 0.5 only", rates: { hidden: 0.5 } },
  { setting: "input 0.2 + hidden 0.5", rates: { input: 0.2, hidden: 0.5 } },
];
const perLayer: { setting: string; train: number; test: number }[] = [];
for (const { setting, rates } of layerRuns) {
  const m = setting === "none" ? plain : setting === "hidden 0.5 only" ? dropped : mlp(rates);
  if (m !== plain && m !== dropped) await train(m);
  perLayer.push({ setting, train: errorPct(m, trainSet), test: errorPct(m, testSet) });
}
plot.resultsTable(perLayer.map((r) => ({ dropout: r.setting, "train error %": r.train, "test error %": r.test })), { title: "Where to drop", digits: 3 })
''')

md(r"""
## Too low, too high

Sweeping the hidden rate p: at p = 0 the net memorises; as p grows the train/test gap closes; at very high p
too few units survive each step and the net underfits (training error rises and test error with it).
Srivastava et al. (Fig. 9a) found test error flat for keep probability 0.4–0.8 (p 0.2–0.6) on MNIST.
""")

code(r'''
const rates = [0, 0.2, 0.5, 0.8, 0.9];
const sweep: { p: number; train: number; test: number }[] = [];
for (const p of rates) {
  const m = p === 0 ? plain : p === 0.5 ? dropped : mlp({ hidden: p });
  if (m !== plain && m !== dropped) await train(m);
  sweep.push({ p, train: errorPct(m, trainSet), test: errorPct(m, testSet) });
}
console.log(sweep.map((r) => `p=${r.p}: train ${r.train.toFixed(1)} %, test ${r.test.toFixed(2)} %`).join("\n"));
plot.lossPlot([
  { name: "test error (true labels)", x: rates, y: sweep.map((r) => r.test) },
  { name: "train error (20% noisy labels)", x: rates, y: sweep.map((r) => r.train) },
], { title: "Hidden dropout rate p: too low memorises, too high underfits", xLabel: "dropout rate p (hidden layers)", yLabel: "error %" })
''')

md(r"""
## Results

Ours beside the papers' where they make a comparable claim. The papers' numbers are for MNIST (this task is
synthetic), so only the *direction* and the *shape* of each effect compare; PAPERS.md marks the figure
readings as not re-checked, hence "approx.".
""")

code(r'''
const best = sweep.reduce((a, r) => (r.test < a.test ? r : a));
const flat = sweep.filter((r) => r.p >= 0.2 && r.p <= 0.5).map((r) => r.test);
plot.resultsTable([
  { experiment: "test error, no dropout → dropout 0.5 hidden", ours: `${curves.plain.test.toFixed(2)} % → ${curves.dropout.test.toFixed(2)} %`, paper: "1.60 % → 1.25 % (MNIST, Srivastava Table 2)", note: "direction" },
  { experiment: "train error, no dropout → dropout (20 % labels flipped)", ours: `${curves.plain.train.toFixed(1)} % → ${curves.dropout.train.toFixed(1)} %`, paper: "", note: "memorisation" },
  { experiment: "classic twin vs inverted, max |Δ logit| (test mode)", ours: evalDiff.toExponential(1), paper: "identical in exact arithmetic", note: "" },
  { experiment: "MC samples k to match weight scaling (±0.5 pt)", ours: kMatch === null ? `> ${cfg.mcMax}` : String(kMatch), paper: "approx. 50 (Fig. 11)", note: "approx." },
  { experiment: `weight scaling vs MC (k = ${ks.at(-1)}) test error, first ${cfg.nMC} test inputs`, ours: `${wsError.toFixed(2)} % vs ${mcErrors.at(-1)!.toFixed(2)} %`, paper: "about equal (Fig. 11)", note: "approx." },
  { experiment: "best hidden rate p in sweep", ours: `p = ${best.p} (${best.test.toFixed(2)} %)`, paper: "flat for p 0.2–0.6 (Fig. 9a)", note: "approx." },
  { experiment: "test error spread for p 0.2–0.5", ours: `${Math.min(...flat).toFixed(2)}–${Math.max(...flat).toFixed(2)} %`, paper: "flat (Fig. 9a)", note: "approx." },
  { experiment: "input 0.2 + hidden 0.5 test error", ours: `${perLayer[3]!.test.toFixed(2)} %`, paper: "paper's MNIST setting", note: "" },
], { title: `01 — what is dropout (budget ${budget}, seed ${seed})` })
''', ["results"])

code(r'''
console.log(`wall time of this notebook's computation (budget ${budget}): ${((performance.now() - started) / 1000).toFixed(1)} s`);
''', ["timing"])

md(r"""
---
The outputs committed with this notebook come from a run of the **smoke** budget through
`dropout-lab run notebooks/01-what-is-dropout.ipynb` (the headless runner, over the kernel's sockets);
the timing cell above gives its wall time. The **full** budget
(`-p budget=full`: 1000 training examples, 100 epochs, 10 000 test inputs, MC on all 10 000 with up to 200 samples) does about
12× the smoke budget's training work and about 40× its MC work: an estimate (from the sizes, not yet measured) of 10–20
minutes on this 2-core machine, against 67–102 s of computation for the smoke budget measured here while the
machine was heavily loaded (87–132 s end to end through the runner, kernel start included).
""")

nb = {"nbformat": 4, "nbformat_minor": 5,
      "metadata": {"kernelspec": {"name": "dropout-lab", "display_name": "TypeScript (dropout-lab)", "language": "typescript"}},
      "cells": cells}
import hashlib
for i, c in enumerate(nb["cells"]):
    c["id"] = hashlib.sha1(f"01-{i}".encode()).hexdigest()[:8]
json.dump(nb, open(sys.argv[1], "w"), indent=1, ensure_ascii=False)
open(sys.argv[1], "a").write("\n")
