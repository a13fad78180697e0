/**
 * Optimizers updating parameters in place from their `grad`, learning-rate/momentum schedules as training
 * callbacks, Hinton et al. 2012's recipe, and gradient clipping by global norm.
 */
import * as backend from "../backend/index.js";
import { Tensor } from "../tensor/tensor.js";
import { exponentialSchedule, linearSchedule, type Schedule, type EpochHook } from "../dropout/schedule.js";

/** What every optimizer offers. */
export interface Optimizer {
  /** Current learning rate (schedules set it). */
  lr: number;
  /** Applies one update from the parameters' gradients (parameters without a gradient are skipped). */
  step(): void;
  /** Zeroes the gradients of the parameters in place. */
  zeroGrad(): void;
  /** The parameters being optimized. */
  readonly params: readonly Tensor[];
}

function checkParams(op: string, params: Iterable<Tensor>): Tensor[] {
  const list = [...params];
  if (list.length === 0) throw new Error(`${op}: no parameters`);
  for (const p of list) if (!(p instanceof Tensor)) throw new TypeError(`${op}: parameters must be Tensors`);
  return list;
}
function checkNum(op: string, name: string, v: number, min = 0): void {
  if (!(typeof v === "number" && Number.isFinite(v) && v >= min)) throw new RangeError(`${op}: ${name} must be a finite number ≥ ${min}, got ${v}`);
}

/** Options of `SGD`. */
export interface SGDOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
  /** L2 penalty: adds weightDecay·w to every gradient (default 0). */
  weightDecay?: number;
  /**
   * Dampening of the gradient in the velocity, v ← μ·v + (1 − dampening)·g (default 0, PyTorch's). "momentum"
   * uses the current μ, Hinton et al. 2012's step scaled by (1 − μ), also while a schedule changes μ.
   */
  dampening?: number | "momentum";
}

abstract class Base implements Optimizer {
  readonly params: Tensor[];
  lr: number;
  constructor(op: string, params: Iterable<Tensor>, lr: number) {
    this.params = checkParams(op, params);
    checkNum(op, "lr", lr);
    this.lr = lr;
  }
  abstract step(): void;
  /** Zeroes every gradient in place (PyTorch 1.13's default), so the next backward reuses its storage. */
  zeroGrad(): void {
    for (const p of this.params) p._zeroGrad();
  }
  /** Per-parameter state, zeros at first; in the backend's memory beside a parameter that is there. */
  protected state(i: number, store: (Float32Array | undefined)[]): Float32Array {
    const p = this.params[i]!;
    return (store[i] ??= backend.isResident(p.data) ? backend.allocate(p.size) : new Float32Array(p.size));
  }
}

/** Stochastic gradient descent with momentum (PyTorch's formulation) or Nesterov momentum. */
export class SGD extends Base {
  momentum: number;
  readonly nesterov: boolean;
  weightDecay: number;
  readonly dampening: number | "momentum";
  readonly #velocity: (Float32Array | undefined)[] = [];
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super("SGD", params, options.lr);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    this.dampening = options.dampening ?? 0;
    checkNum("SGD", "momentum", this.momentum);
    checkNum("SGD", "weightDecay", this.weightDecay);
    if (this.nesterov && this.momentum === 0) throw new RangeError("SGD: nesterov needs momentum > 0");
  }
  step(): void {
    const mu = this.momentum;
    const damp = 1 - (this.dampening === "momentum" ? mu : this.dampening);
    const lr = this.lr;
    const wd = this.weightDecay;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const w = p.data;
      const g = p.grad.data;
      if (mu === 0) {
        for (let j = 0; j < w.length; j++) w[j] = w[j]! - lr * (g[j]! + wd * w[j]!);
        return;
      }
      const fresh = this.#velocity[i] === undefined;
      const v = this.state(i, this.#velocity);
      if (wd === 0 && damp === 1 && !this.nesterov && backend.isResident(w) && backend.isResident(g)) {
        // The kernel's v = μ·v + g is g itself on the first step, where v is still zero.
        backend.sgdMomentum(w, g, v, lr, mu);
        return;
      }
      for (let j = 0; j < w.length; j++) {
        const gj = g[j]! + wd * w[j]!;
        const vj = fresh ? gj : mu * v[j]! + damp * gj;
        v[j] = vj;
        w[j] = w[j]! - lr * (this.nesterov ? gj + mu * vj : vj);
      }
    });
  }
}

/** Options of `Adam`. */
export interface AdamOptions {
  /** Learning rate (default 0.001). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
}

/** Adam (Kingma & Ba 2015) with bias correction, PyTorch's formulation. */
export class Adam extends Base {
  readonly betas: [number, number];
  readonly eps: number;
  weightDecay: number;
  #t = 0;
  readonly #m: (Float32Array | undefined)[] = [];
  readonly #v: (Float32Array | undefined)[] = [];
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super("Adam", params, options.lr ?? 1e-3);
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    for (const b of this.betas) if (!(b >= 0 && b < 1)) throw new RangeError(`Adam: betas must be in [0, 1), got ${this.betas}`);
  }
  step(): void {
    const [b1, b2] = this.betas;
    const t = ++this.#t;
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    const lr = this.lr;
    const wd = this.weightDecay;
    const eps = this.eps;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const w = p.data;
      const g = p.grad.data;
      const m = this.state(i, this.#m);
      const v = this.state(i, this.#v);
      for (let j = 0; j < w.length; j++) {
        const gj = g[j]! + wd * w[j]!;
        m[j] = b1 * m[j]! + (1 - b1) * gj;
        v[j] = b2 * v[j]! + (1 - b2) * gj * gj;
        w[j] = w[j]! - (lr * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + eps);
      }
    });
  }
}

/** Options of `RMSProp`. */
export interface RMSPropOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Decay of the squared-gradient average (default 0.99, PyTorch's; Zoneout's pMNIST runs use 0.5). */
  alpha?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
}

/** RMSProp (Tieleman & Hinton 2012), PyTorch's formulation. */
export class RMSProp extends Base {
  readonly alpha: number;
  readonly eps: number;
  momentum: number;
  weightDecay: number;
  readonly #sq: (Float32Array | undefined)[] = [];
  readonly #buf: (Float32Array | undefined)[] = [];
  constructor(params: Iterable<Tensor>, options: RMSPropOptions = {}) {
    super("RMSProp", params, options.lr ?? 1e-2);
    this.alpha = options.alpha ?? 0.99;
    this.eps = options.eps ?? 1e-8;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.alpha >= 0 && this.alpha < 1)) throw new RangeError(`RMSProp: alpha must be in [0, 1), got ${this.alpha}`);
  }
  step(): void {
    const { alpha: a, eps, lr, momentum: mu, weightDecay: wd } = this;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const w = p.data;
      const g = p.grad.data;
      const s = this.state(i, this.#sq);
      const b = mu > 0 ? this.state(i, this.#buf) : null;
      for (let j = 0; j < w.length; j++) {
        const gj = g[j]! + wd * w[j]!;
        s[j] = a * s[j]! + (1 - a) * gj * gj;
        const u = gj / (Math.sqrt(s[j]!) + eps);
        if (b) {
          b[j] = mu * b[j]! + u;
          w[j] = w[j]! - lr * b[j]!;
        } else w[j] = w[j]! - lr * u;
      }
    });
  }
}

/** Sets optimizer.lr = schedule(epoch) at the start of every epoch. */
export function scheduleLr(optimizer: Optimizer, schedule: Schedule): EpochHook {
  return { onEpochBegin: (e) => void (optimizer.lr = schedule(e)) };
}

/** Sets the momentum of an SGD or RMSProp optimizer to schedule(epoch) at the start of every epoch. */
export function scheduleMomentum(optimizer: SGD | RMSProp, schedule: Schedule): EpochHook {
  return { onEpochBegin: (e) => void (optimizer.momentum = schedule(e)) };
}

/** Options of `hinton2012`. */
export interface Hinton2012Options {
  /** Initial learning rate (default 10). */
  lr?: number;
  /** Learning-rate factor per epoch (default 0.998). */
  decay?: number;
  /** Momentum at epoch 0 (default 0.5). */
  momentumStart?: number;
  /** Momentum reached after `momentumEpochs` (default 0.99). */
  momentumEnd?: number;
  /** Epochs of the linear momentum ramp (default 500). */
  momentumEpochs?: number;
}

/**
 * Hinton et al. 2012's MNIST schedule for an SGD optimizer made with `dampening: "momentum"`: lr·decay^epoch
 * and momentum rising linearly from momentumStart to momentumEnd.
 */
export function hinton2012(optimizer: SGD, options: Hinton2012Options = {}): EpochHook[] {
  const { lr = 10, decay = 0.998, momentumStart = 0.5, momentumEnd = 0.99, momentumEpochs = 500 } = options;
  return [
    scheduleLr(optimizer, exponentialSchedule({ from: lr, factor: decay })),
    scheduleMomentum(optimizer, linearSchedule({ from: momentumStart, to: momentumEnd, epochs: momentumEpochs })),
  ];
}

/** Scales all gradients together so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  checkNum("clipGradNorm", "maxNorm", maxNorm);
  const list = [...params].filter((p) => p.grad);
  let s = 0;
  for (const p of list) for (const v of p.grad!.data) s += v * v;
  const norm = Math.sqrt(s);
  if (norm > maxNorm) {
    const f = maxNorm / (norm + 1e-6);
    for (const p of list) {
      const g = p.grad!.data;
      for (let j = 0; j < g.length; j++) g[j] = g[j]! * f;
    }
  }
  return norm;
}
