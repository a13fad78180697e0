// Training workloads measured by bench/run.mjs beside PyTorch's (bench/torch_bench.py builds the same
// models). Each entry is { key, label, run }: `run()` trains on random data and returns samples per second
// (timed after warm-up); run.mjs reports it as `${key}_samples_per_s` and, when torch_bench.py measured
// `torch_${key}_samples_per_s`, also `${key}_ratio` (ours / PyTorch's). The keys torch_bench.py measures:
//   mlp            784-800-800-10 ReLU, dropout 0.5 after each hidden layer, cross-entropy, SGD momentum 0.9,
//                  batch 100
//   mlp_nodropout  the same without dropout; its steps alternate with the mlp workload's, so that
//                  dropout_overhead (their ratio) holds on a busy machine too
//   cnn            32×32×3: conv 3→32 5×5 pad 2, ReLU, maxpool 2, conv 32→64 5×5 pad 2, ReLU, maxpool 2,
//                  linear 4096→1024, ReLU, linear 1024→10, batch 64
//   lstm           LSTM 1→128 over T=784, batch 32, loss on linear 128→10 of the last step
// and ours only (no PyTorch peer):
//   lstm_zoneout   the lstm workload with zoneout { cell: 0.15, hidden: 0.15 }; its steps alternate with the
//                  lstm workload's (both measured together), so zoneout_overhead holds on a busy machine too
// Every model is built with the library's public API (dist/src/index.js), as a user would.
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const L = await import(join(here, "../dist/src/index.js"));
const { nn, random } = L;

/**
 * One SGD (momentum 0.9, lr 0.01) training step of `model` on (x, y); `forward` maps x to logits. The step runs
 * in `tidy`, as `fit` runs each batch: its tensors' storage is reused by the next step.
 */
function stepper(params, forward, x, y) {
  const opt = new L.SGD(params, { lr: 0.01, momentum: 0.9 });
  return () => L.tidy(() => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(forward(x), y);
    loss.backward();
    opt.step();
  });
}

/**
 * Samples per second of `step` (each trains on `batch` samples): `warmup` untimed steps, then steps until at
 * least `minSamples` samples and `minSeconds` have passed.
 */
function rate(step, batch, { warmup = 1, minSamples = batch, minSeconds = 1 } = {}) {
  for (let i = 0; i < warmup; i++) step();
  let samples = 0;
  const t0 = performance.now();
  while (samples < minSamples || performance.now() - t0 < minSeconds * 1000) {
    step();
    samples += batch;
  }
  return samples / ((performance.now() - t0) / 1000);
}

/** The MLP workload's training step (784-800-800-10, ReLU, dropout `p` after each hidden layer), batch 100. */
export function mlpStep(p) {
  L.manualSeed(0);
  const hidden = (i, o) => (p > 0 ? [new nn.Linear(i, o, { activation: "relu" }), new nn.Dropout(p)] : [new nn.Linear(i, o, { activation: "relu" })]);
  const model = new nn.Sequential(...hidden(784, 800), ...hidden(800, 800), new nn.Linear(800, 10));
  model.train();
  const batch = 100;
  const x = L.randn([batch, 784]);
  const y = random.randint([batch], 0, 10);
  return stepper(model.parameters(), (v) => model.forward(v), x, y);
}

function cnnStep() {
  L.manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(3, 32, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(32, 64, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(4096, 1024, { activation: "relu" }), new nn.Linear(1024, 10),
  );
  model.train();
  const batch = 64;
  return stepper(model.parameters(), (v) => model.forward(v), L.randn([batch, 3, 32, 32]), random.randint([batch], 0, 10));
}

function lstmStep(zoneout) {
  L.manualSeed(0);
  const T = 784, batch = 32, H = 128;
  const lstm = new nn.LSTM(1, H, zoneout ? { zoneout } : {});
  const head = new nn.Linear(H, 10);
  lstm.train();
  const forward = (x) => head.forward(lstm.forward(x).h.reshape([batch, H]));
  return stepper([...lstm.parameters(), ...head.parameters()], forward, L.randn([T, batch, 1]), random.randint([batch], 0, 10));
}

/**
 * Samples per second of several training steps measured together: after `warmup` untimed steps each, their
 * steps alternate until each has run `minSeconds`, so other processes' load falls on all of them alike and
 * their ratio is meaningful on a busy machine too. Each rate is over all of its timed steps, as `rate` counts.
 * Returns one rate per step.
 */
function rates(steps, batch, { warmup = 1, minSeconds = 1 } = {}) {
  for (const step of steps) for (let i = 0; i < warmup; i++) step();
  const times = steps.map(() => []);
  const total = (i) => times[i].reduce((a, t) => a + t, 0);
  while (steps.some((_, i) => total(i) < minSeconds * 1000)) {
    steps.forEach((step, i) => {
      const t0 = performance.now();
      step();
      times[i].push(performance.now() - t0);
    });
  }
  return times.map((_, i) => (batch * times[i].length) / (total(i) / 1000));
}

/** Runs `measure` on the first call and returns its result from then on. */
const once = (measure) => {
  let result = null;
  return () => (result ??= measure());
};
/** The MLP workload with and without dropout, measured together (`rates`). */
const mlpRates = once(() => rates([mlpStep(0.5), mlpStep(0)], 100, { warmup: 5, minSeconds: 3 }));
/** The LSTM workload without and with zoneout, measured together (`rates`). */
const lstmRates = once(() => rates([lstmStep(null), lstmStep({ cell: 0.15, hidden: 0.15 })], 32, { warmup: 1, minSeconds: 6 }));

export const workloads = [
  { key: "mlp", label: "MLP 784-800-800-10, dropout 0.5", run: () => mlpRates()[0] },
  { key: "mlp_nodropout", label: "MLP 784-800-800-10, no dropout (steps alternating with the above)", run: () => mlpRates()[1] },
  { key: "cnn", label: "CNN 32×32×3, batch 64", run: () => rate(cnnStep(), 64, { warmup: 1, minSamples: 192, minSeconds: 3 }) },
  { key: "lstm", label: "LSTM 1→128, T=784, batch 32", run: () => lstmRates()[0] },
  { key: "lstm_zoneout", label: "LSTM as above, zoneout 0.15/0.15 (steps alternating with the above)", run: () => lstmRates()[1] },
];
