/**
 * Schedules (a value per epoch) and the training-time tools that go with dropout: rate schedules for any
 * dropout module, the max-norm constraint, and Monte-Carlo dropout prediction.
 */
import { Key, foldIn } from "../random/keys.js";
import { Tensor, noGrad } from "../tensor/tensor.js";
import { softmax } from "../tensor/layers.js";
import { Module, type TensorModule } from "../nn/module.js";
import { Linear, Conv2d } from "../nn/layers.js";
import { isStochastic } from "../nn/noise.js";
import { DropoutModule } from "./base.js";

/** A value as a function of the epoch (0-based). */
export type Schedule = (epoch: number) => number;

/** Options of `linearSchedule`. */
export interface LinearScheduleOptions {
  /** Value at epoch 0. */
  from: number;
  /** Value from epoch `epochs` on. */
  to: number;
  /** Epochs to go from `from` to `to`. */
  epochs: number;
}
/** Linear annealing: from → to over `epochs` epochs, then constant (Hinton 2012's momentum 0.5 → 0.99). */
export function linearSchedule({ from, to, epochs }: LinearScheduleOptions): Schedule {
  if (!(epochs > 0)) throw new RangeError(`linearSchedule: epochs must be positive, got ${epochs}`);
  return (e) => from + (to - from) * Math.min(Math.max(e / epochs, 0), 1);
}

/** Options of `exponentialSchedule`. */
export interface ExponentialScheduleOptions {
  /** Value at epoch 0. */
  from: number;
  /** Factor per epoch (e.g. 0.998 for Hinton 2012's learning rate). */
  factor: number;
  /** Limit approached (default 0): value = to + (from − to)·factor^epoch. */
  to?: number;
}
/** Exponential annealing: to + (from − to)·factor^epoch. */
export function exponentialSchedule({ from, factor, to = 0 }: ExponentialScheduleOptions): Schedule {
  if (!(factor > 0)) throw new RangeError(`exponentialSchedule: factor must be positive, got ${factor}`);
  return (e) => to + (from - to) * factor ** e;
}

/** Options of `stepSchedule`. */
export interface StepScheduleOptions {
  /** Value at epoch 0. */
  from: number;
  /** Multiplier applied every `every` epochs. */
  factor: number;
  /** Epochs between steps. */
  every: number;
}
/** Step decay: from·factor^floor(epoch / every). */
export function stepSchedule({ from, factor, every }: StepScheduleOptions): Schedule {
  if (!(Number.isInteger(every) && every > 0)) throw new RangeError(`stepSchedule: every must be a positive integer, got ${every}`);
  return (e) => from * factor ** Math.floor(e / every);
}

/** A training callback that sets values at the start of each epoch. */
export interface EpochHook {
  /** Called by `fit` before epoch `epoch` (from 0). */
  onEpochBegin(epoch: number): void;
}

/** Sets the rate of each given dropout module (or of every dropout module inside a model) to schedule(epoch). */
export function scheduleDropout(target: Module | DropoutModule[], schedule: Schedule): EpochHook {
  const mods = Array.isArray(target) ? target : target.modules().filter((m): m is DropoutModule => m instanceof DropoutModule);
  if (mods.length === 0) throw new Error("scheduleDropout: no dropout modules");
  return {
    onEpochBegin(epoch) {
      const p = schedule(epoch);
      for (const m of mods) m.p = p;
    },
  };
}

/** The weights a max-norm constraint applies to: those of the Linear (also inside DropConnect) and Conv2d layers. */
function constrained(model: Module): Tensor[] {
  return model.modules().filter((m) => m instanceof Linear || m instanceof Conv2d).map((m) => (m as Linear | Conv2d).weight);
}

/** Rescales each unit's incoming weights (each row of W [out, ...]) whose L2 norm exceeds c down to norm c. */
export function applyMaxNorm(weights: Tensor[], c: number): void {
  if (!(c > 0)) throw new RangeError(`maxNorm: c must be positive, got ${c}`);
  for (const w of weights) {
    const rows = w.shape[0]!;
    const n = w.size / rows;
    const d = w.data;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = r * n; j < (r + 1) * n; j++) s += d[j]! * d[j]!;
      const norm = Math.sqrt(s);
      if (norm > c) {
        const f = c / norm;
        for (let j = r * n; j < (r + 1) * n; j++) d[j] = d[j]! * f;
      }
    }
  }
}

/** A training callback run after every optimizer step. */
export interface BatchHook {
  /** Called by `fit` after every optimizer step. */
  onBatchEnd(): void;
}

/**
 * Max-norm constraint (Srivastava et al. 2014; Hinton 2012 bounds the squared length by 15, i.e. c = √15): after
 * every step, each unit's incoming weight vector of the model's Linear/Conv2d layers is projected onto the ball
 * of radius c.
 */
export function maxNorm(model: Module, c: number): BatchHook {
  const ws = constrained(model);
  if (!(c > 0)) throw new RangeError(`maxNorm: c must be positive, got ${c}`);
  return { onBatchEnd: () => applyMaxNorm(ws, c) };
}

/** Options of `mcPredict`. */
export interface MCPredictOptions {
  /** Number of stochastic forward passes (default 50; Srivastava et al. Fig. 11: about 50 match weight scaling). */
  samples?: number;
  /** Key of the passes: pass s gives stochastic module i the stream foldIn(foldIn(key, s), i). */
  key: Key;
  /** Apply softmax to each pass's output before averaging (classification; default false). */
  probabilities?: boolean;
}

/** The result of `mcPredict`. */
export interface MCPrediction {
  /** Mean over passes, shaped like the model's output. */
  mean: Tensor;
  /** Variance over passes (divided by the number of passes), shaped like the output. */
  variance: Tensor;
  /** The deterministic prediction in evaluation mode (weight scaling), for comparison. */
  weightScaling: Tensor;
}

/**
 * Monte-Carlo dropout (Gal & Ghahramani 2016): `samples` forward passes with the stochastic modules (dropout,
 * regularized RNNs) in training mode and everything else (BatchNorm) in evaluation mode, without gradients.
 * The model's modes and mask streams are restored afterwards.
 */
export function mcPredict(model: TensorModule, x: Tensor, options: MCPredictOptions): MCPrediction {
  const { samples = 50, key, probabilities = false } = options;
  if (!(Number.isInteger(samples) && samples >= 1)) throw new RangeError(`mcPredict: samples must be a positive integer, got ${samples}`);
  if (!(key instanceof Key)) throw new TypeError("mcPredict: options.key (a Key) is required");
  const mods = model.modules();
  const modes = mods.map((m) => m.training);
  const stoch = mods.filter(isStochastic);
  const saved = stoch.map((m) => m.stream.save());
  const post = (t: Tensor) => (probabilities ? softmax(t, -1) : t);
  try {
    return noGrad(() => {
      model.eval();
      const weightScaling = post(model.forward(x));
      for (const m of stoch) m.training = true;
      const n = weightScaling.size;
      const sum = new Float64Array(n);
      const sq = new Float64Array(n);
      for (let s = 0; s < samples; s++) {
        const ks = foldIn(key, s);
        stoch.forEach((m, i) => m.stream.reset(foldIn(ks, i)));
        const y = post(model.forward(x)).data;
        for (let j = 0; j < n; j++) {
          sum[j] += y[j]!;
          sq[j] += y[j]! * y[j]!;
        }
      }
      const mean = new Float32Array(n);
      const variance = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        const m = sum[j]! / samples;
        mean[j] = m;
        variance[j] = Math.max(sq[j]! / samples - m * m, 0);
      }
      return { mean: new Tensor(mean, weightScaling.shape), variance: new Tensor(variance, weightScaling.shape), weightScaling };
    });
  } finally {
    mods.forEach((m, i) => (m.training = modes[i]!));
    stoch.forEach((m, i) => m.stream.restore(saved[i]!));
  }
}
