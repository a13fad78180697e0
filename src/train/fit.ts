/**
 * The training loop: `fit` runs minibatch epochs with a shuffling key, callbacks and an AbortSignal, and
 * returns a History of plain data; `evaluate` computes loss and accuracy in evaluation mode.
 */
import { Key, foldIn, nextKey } from "../random/keys.js";
import { permutationArray } from "../random/sampling.js";
import { Tensor, noGrad } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { tidy } from "../tensor/pool.js";
import { crossEntropy, mseLoss } from "../tensor/layers.js";
import type { TensorModule, Module } from "../nn/module.js";
import { nllLoss } from "../nn/losses.js";
import type { Optimizer } from "../optim/optimizers.js";
import { clipGradNorm } from "../optim/optimizers.js";

/** Inputs and targets: x [N, ...], y [N] of class labels or [N, ...] of regression targets. */
export interface Dataset {
  /** Inputs, first dimension the examples. */
  x: Tensor;
  /** Targets: integer class labels [N] (as float values) or regression targets [N, ...]. */
  y: Tensor;
}

/** A loss by name, or a function of (model output, batch targets) returning a scalar tensor. */
export type LossSpec = "crossEntropy" | "nll" | "mse" | ((output: Tensor, target: Tensor) => Tensor);

/** One epoch's record. Epochs count from 0. */
export interface EpochLog {
  /** Epoch index, from 0. */
  epoch: number;
  /** Mean training loss over the epoch's batches (with dropout active), weighted by batch size. */
  trainLoss: number;
  /** Training accuracy over the epoch's batches (classification losses only). */
  trainAcc?: number;
  /** Validation loss in evaluation mode (when `validation` is given). */
  valLoss?: number;
  /** Validation accuracy (classification with `validation`). */
  valAcc?: number;
  /** Wall time of the epoch in seconds, validation included. */
  time: number;
  /** Learning rate used during the epoch. */
  lr?: number;
  /** Number of batches run (fewer than a full epoch when aborted). */
  batches: number;
}

/** One batch's record. */
export interface BatchLog {
  /** Global step, from 0. */
  step: number;
  /** Epoch index, from 0. */
  epoch: number;
  /** Batch index within the epoch, from 0. */
  batch: number;
  /** Training loss of the batch. */
  loss: number;
}

/** What `fit` returns: plain data (JSON-serializable) for tables and plots. */
export interface History {
  /** One entry per epoch started (a partial last epoch when aborted). */
  epochs: EpochLog[];
  /** One entry per batch. */
  batches: BatchLog[];
  /** Why training ended. */
  stopReason: "completed" | "aborted" | "callback";
}

/** What `fit` tells callbacks when training begins. */
export interface TrainParams {
  /** Epochs requested. */
  epochs: number;
  /** Examples per batch. */
  batchSize: number;
  /** Batches in a full epoch (the last one may be smaller). */
  batchesPerEpoch: number;
  /** Training examples. */
  samples: number;
}

/** Hooks called by `fit`; every member is optional. */
export interface Callback {
  /** Once before the first epoch (progress displays size themselves here). */
  onTrainBegin?(params: TrainParams, history: History): void;
  /** Before each epoch (schedules set rates here). */
  onEpochBegin?(epoch: number, history: History): void;
  /** After each optimizer step (constraints such as max-norm run here). */
  onBatchEnd?(log: BatchLog, history: History): void;
  /** After each epoch, with its log already in the history; return true to stop training. */
  onEpochEnd?(log: EpochLog, history: History): boolean | void;
  /** Once when training ends, however it ends (not when it throws). */
  onTrainEnd?(history: History): void;
}

/** Options of `fit`. */
export interface FitOptions {
  /** Number of epochs. */
  epochs: number;
  /** Examples per batch (default 32); the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Updates the model's parameters. */
  optimizer: Optimizer;
  /** Loss (default "crossEntropy" on logits). "nll" expects log-probabilities. */
  loss?: LossSpec;
  /** Data evaluated after each epoch, in evaluation mode. */
  validation?: Dataset;
  /** Schedules, constraints, early stopping, progress displays. */
  callbacks?: (Callback | Callback[])[];
  /** Stops training after the current batch when aborted; `fit` then resolves with what it has. */
  signal?: AbortSignal;
  /** Key of the shuffling: epoch e uses a permutation from foldIn(key, e) (default: the `manualSeed` stream's next key). */
  key?: Key;
  /** Shuffle the examples every epoch (default true). */
  shuffle?: boolean;
  /** Clip the gradients' global norm to this value before each step (default: no clipping). */
  clipGradNorm?: number;
}

function lossFn(spec: LossSpec): (out: Tensor, y: Tensor) => Tensor {
  if (typeof spec === "function") return spec;
  if (spec === "crossEntropy") return (o, y) => crossEntropy(o, y);
  if (spec === "nll") return (o, y) => nllLoss(o, y);
  if (spec === "mse") return (o, y) => mseLoss(o, y);
  throw new RangeError(`unknown loss "${String(spec)}"`);
}

function checkData(op: string, d: Dataset, what: string): number {
  if (!d || !(d.x instanceof Tensor) || !(d.y instanceof Tensor)) throw new TypeError(`${op}: ${what} must be { x: Tensor, y: Tensor }`);
  const n = d.x.shape[0];
  if (n === undefined || n === 0 || d.y.shape[0] !== n) throw new Error(`${op}: ${what}.x ${fmt(d.x.shape)} and ${what}.y ${fmt(d.y.shape)} need the same non-zero first dimension`);
  return n;
}

/** Rows idx[from..to) of t as a new tensor. */
function rows(t: Tensor, idx: Int32Array | null, from: number, to: number): Tensor {
  const n = t.shape[0]!;
  const w = t.size / n;
  if (!idx) return new Tensor(t.data.slice(from * w, to * w), [to - from, ...t.shape.slice(1)]);
  const out = new Float32Array((to - from) * w);
  for (let i = from; i < to; i++) out.set(t.data.subarray(idx[i]! * w, (idx[i]! + 1) * w), (i - from) * w);
  return new Tensor(out, [to - from, ...t.shape.slice(1)]);
}

/** Number of rows whose argmax equals the label (y of integer labels [N]); null when y holds no labels. */
function correct(out: Tensor, y: Tensor): number | null {
  if (y.ndim !== 1 || out.ndim !== 2) return null;
  const [N, C] = out.shape as [number, number];
  let c = 0;
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let j = 1; j < C; j++) if (out.data[i * C + j]! > out.data[i * C + best]!) best = j;
    if (best === y.data[i]) c++;
  }
  return c;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * Trains `model` on `data` in minibatches and resolves with the History, also when aborted through `signal`
 * (checked after every batch; the event loop runs between batches so an abort from a timer or a kernel interrupt
 * is seen). The model is in training mode for the batches, in evaluation mode for validation, and left in
 * training mode. Throws if a batch's loss is NaN or infinite, naming the epoch and batch.
 */
export async function fit(model: TensorModule, data: Dataset, options: FitOptions): Promise<History> {
  const { epochs, batchSize = 32, optimizer, loss = "crossEntropy", validation, signal, shuffle = true } = options;
  const N = checkData("fit", data, "data");
  if (validation) checkData("fit", validation, "validation");
  if (!(Number.isInteger(epochs) && epochs >= 0)) throw new RangeError(`fit: epochs must be a non-negative integer, got ${epochs}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`fit: batchSize must be a positive integer, got ${batchSize}`);
  if (!optimizer || typeof optimizer.step !== "function") throw new TypeError("fit: options.optimizer is required");
  const key = options.key ?? nextKey();
  const f = lossFn(loss);
  const classify = loss === "crossEntropy" || loss === "nll";
  const callbacks = (options.callbacks ?? []).flat();
  const history: History = { epochs: [], batches: [], stopReason: "completed" };
  for (const c of callbacks) c.onTrainBegin?.({ epochs, batchSize, batchesPerEpoch: Math.ceil(N / batchSize), samples: N }, history);
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (signal?.aborted) {
      history.stopReason = "aborted";
      break;
    }
    const t0 = performance.now();
    for (const c of callbacks) c.onEpochBegin?.(epoch, history);
    const lr = optimizer.lr;
    model.train();
    const idx = shuffle ? permutationArray(foldIn(key, epoch), N) : null;
    let lossSum = 0;
    let hits = 0;
    let seen = 0;
    let batch = 0;
    let aborted = false;
    for (let from = 0; from < N; from += batchSize, batch++) {
      const to = Math.min(from + batchSize, N);
      const xb = rows(data.x, idx, from, to);
      const yb = rows(data.y, idx, from, to);
      // One step in `tidy`: the next step reuses this one's storage.
      const [v, c] = tidy(() => {
        optimizer.zeroGrad();
        const out = model.forward(xb);
        const l = f(out, yb);
        const v = l.item();
        if (!Number.isFinite(v)) throw new Error(`fit: loss is ${v} at epoch ${epoch}, batch ${batch} (step ${step})`);
        l.backward();
        if (options.clipGradNorm !== undefined) clipGradNorm(optimizer.params, options.clipGradNorm);
        optimizer.step();
        return [v, classify ? (correct(out, yb) ?? 0) : 0];
      });
      lossSum += v * (to - from);
      seen += to - from;
      hits += c;
      const log: BatchLog = { step: step++, epoch, batch, loss: v };
      history.batches.push(log);
      for (const c of callbacks) c.onBatchEnd?.(log, history);
      await tick();
      if (signal?.aborted) {
        aborted = true;
        batch++;
        break;
      }
    }
    const log: EpochLog = { epoch, trainLoss: lossSum / seen, time: 0, lr, batches: aborted ? batch : Math.ceil(N / batchSize) };
    if (classify && data.y.ndim === 1) log.trainAcc = hits / seen;
    if (validation && !aborted) {
      const r = evaluate(model, validation, { loss, batchSize: Math.max(batchSize, 256) });
      log.valLoss = r.loss;
      if (r.accuracy !== undefined) log.valAcc = r.accuracy;
    }
    log.time = (performance.now() - t0) / 1000;
    history.epochs.push(log);
    if (aborted) {
      history.stopReason = "aborted";
      break;
    }
    let stop = false;
    for (const c of callbacks) if (c.onEpochEnd?.(log, history) === true) stop = true;
    if (stop) {
      history.stopReason = "callback";
      break;
    }
  }
  model.train();
  for (const c of callbacks) c.onTrainEnd?.(history);
  return history;
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Loss (default "crossEntropy"). */
  loss?: LossSpec;
  /** Examples per forward pass (default 256). */
  batchSize?: number;
}

/** Loss and (for classification) accuracy of `model` on `data` in evaluation mode, without gradients. */
export function evaluate(model: TensorModule, data: Dataset, options: EvaluateOptions = {}): { loss: number; accuracy?: number } {
  const { loss = "crossEntropy", batchSize = 256 } = options;
  const N = checkData("evaluate", data, "data");
  const f = lossFn(loss);
  const mods = model.modules();
  const modes = mods.map((m: Module) => m.training);
  model.eval();
  try {
    return noGrad(() => {
      let lossSum = 0;
      let hits = 0;
      let labels = true;
      for (let from = 0; from < N; from += batchSize) {
        const to = Math.min(from + batchSize, N);
        const xb = rows(data.x, null, from, to);
        const yb = rows(data.y, null, from, to);
        const [l, c] = tidy(() => {
          const out = model.forward(xb);
          return [f(out, yb).item(), correct(out, yb)];
        });
        lossSum += l * (to - from);
        if (c === null) labels = false;
        else hits += c;
      }
      const classify = loss === "crossEntropy" || loss === "nll";
      return classify && labels ? { loss: lossSum / N, accuracy: hits / N } : { loss: lossSum / N };
    });
  } finally {
    mods.forEach((m, i) => (m.training = modes[i]!));
  }
}

/** Options of `earlyStopping`. */
export interface EarlyStoppingOptions {
  /** Quantity watched (default "valLoss"); accuracies are maximized, losses minimized. */
  monitor?: "valLoss" | "valAcc" | "trainLoss" | "trainAcc";
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** Smallest change counted as an improvement (default 0). */
  minDelta?: number;
  /** Put back the best epoch's parameters and buffers when training ends (default true). */
  restoreBest?: boolean;
}

/** Stops `fit` when the monitored quantity has not improved for `patience` epochs. */
export function earlyStopping(model: Module, options: EarlyStoppingOptions = {}): Callback {
  const { monitor = "valLoss", patience = 5, minDelta = 0, restoreBest = true } = options;
  const sign = monitor.endsWith("Acc") ? -1 : 1;
  let best = Infinity;
  let wait = 0;
  let snapshot: Record<string, Tensor> | null = null;
  const restore = () => {
    if (restoreBest && snapshot) model.loadStateDict(snapshot);
  };
  return {
    onEpochEnd(log, history) {
      const v = log[monitor];
      if (v === undefined) throw new Error(`earlyStopping: "${monitor}" is not in the epoch log (is validation data given?)`);
      if (sign * v < best - minDelta) {
        best = sign * v;
        wait = 0;
        if (restoreBest) snapshot = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape)]));
      } else if (++wait >= patience) return true;
      return false;
    },
    onTrainEnd: restore,
  };
}
