/**
 * The dropout family. One mechanism: a DropoutModule draws one key per training forward pass from its own
 * stream and hands it to `sample`; the Bernoulli variants differ only in the mask shape hook (`noiseShape`,
 * whose size-1 axes share a mask value, as tfjs-layers' noise shape) and the scaling rule (`mode`).
 */
import { Key } from "../random/keys.js";
import { fillBernoulli, fillNormal } from "../random/sampling.js";
import { Tensor } from "../tensor/tensor.js";
import { fmt, sameShape, sizeOf, type Shape } from "../tensor/shape.js";
import { add, mul } from "../tensor/ops.js";
import { dropout, linear } from "../tensor/layers.js";
import { Module } from "../nn/module.js";
import { Linear } from "../nn/layers.js";
import { KeyStream, affine, checkRate } from "../nn/noise.js";
import { SELU_ALPHA, SELU_LAMBDA } from "../nn/layers.js";

/** Options shared by every dropout module. */
export interface DropoutModuleOptions {
  /** Key of this module's mask stream (default: the next key of the `manualSeed` stream at construction). */
  key?: Key;
  /** Keep the last mask drawn in `lastMask` (default false). */
  recordMasks?: boolean;
}

/** Base of every dropout module: rate `p`, own key stream, training flag from the module tree, mask record. */
export abstract class DropoutModule extends Module {
  /** This module's random stream: one key per training forward pass. */
  readonly stream: KeyStream;
  /** Whether to keep the last mask in `lastMask`. */
  recordMasks: boolean;
  /** The last mask drawn (when `recordMasks`): 1 for kept and 0 for dropped units, or the multiplicative noise. */
  lastMask: Tensor | null = null;
  #p = 0;
  constructor(p: number, options: DropoutModuleOptions = {}) {
    super();
    this.p = p;
    this.stream = new KeyStream(options.key);
    this.recordMasks = options.recordMasks ?? false;
  }
  /** The drop rate; schedules change it during training. */
  get p(): number {
    return this.#p;
  }
  set p(v: number) {
    checkRate(this.constructor.name, v, this.allowsOne());
    this.#p = v;
  }
  /** Whether p = 1 is meaningful (false where the scaling rule divides by 1 − p). */
  protected allowsOne(): boolean {
    return false;
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return this.evalForward(x);
    return this.sample(x, this.stream.next());
  }
  /** The training transform with the key for this pass. */
  protected abstract sample(x: Tensor, key: Key): Tensor;
  /** The evaluation transform (identity unless the scaling rule says otherwise). */
  protected evalForward(x: Tensor): Tensor {
    return x;
  }
  protected record(mask: () => Tensor): void {
    if (this.recordMasks) this.lastMask = mask();
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Options of the Bernoulli dropout modules. */
export interface DropoutLayerOptions extends DropoutModuleOptions {
  /**
   * "inverted" (default): kept units scale by 1/(1−p) in training, identity in evaluation.
   * "classic" (Hinton et al. 2012): no scaling in training, everything times (1−p) in evaluation.
   */
  mode?: "inverted" | "classic";
  /**
   * Mask shape: per axis a size, 1 to share one mask value along that axis, or null for the input's size
   * (default: the input's shape, one value per unit).
   */
  noiseShape?: readonly (number | null)[];
}

/** Standard dropout (Srivastava et al. 2014): each unit dropped with probability p. */
export class Dropout extends DropoutModule {
  readonly mode: "inverted" | "classic";
  readonly #noise: readonly (number | null)[] | undefined;
  constructor(p = 0.5, options: DropoutLayerOptions = {}) {
    super(p, options);
    const mode = options.mode ?? "inverted";
    if (mode !== "inverted" && mode !== "classic") throw new RangeError(`Dropout: unknown mode "${String(mode)}"`);
    this.mode = mode;
    this.#noise = options.noiseShape;
  }
  protected override allowsOne(): boolean {
    return true;
  }
  /** The mask shape for an input shape: the hook the variants override. */
  noiseShape(shape: Shape): Shape {
    const ns = this.#noise;
    if (!ns) return shape;
    if (ns.length !== shape.length) throw new Error(`${this.constructor.name}: noiseShape [${ns.join(", ")}] does not fit input ${fmt(shape)}`);
    return ns.map((d, i) => {
      if (d === null) return shape[i]!;
      if (d !== 1 && d !== shape[i]) throw new Error(`${this.constructor.name}: noiseShape [${ns.join(", ")}] does not fit input ${fmt(shape)}`);
      return d;
    });
  }
  protected sample(x: Tensor, key: Key): Tensor {
    const p = this.p;
    const ns = this.noiseShape(x.shape);
    if (sameShape(ns, x.shape)) {
      // The engine's fused mask generation + apply; the keep rule is fillBernoulli's, so the record reproduces it.
      this.record(() => bernoulliTensor(key, ns, 1 - p));
      return dropout(x, p, { training: true, key, mode: this.mode });
    }
    const m = bernoulliTensor(key, ns, 1 - p);
    this.record(() => m);
    const scale = this.mode === "classic" ? 1 : p < 1 ? Math.fround(1 / (1 - p)) : 0;
    const scaled = new Tensor(affine(m.data, scale), ns);
    return mul(x, scaled);
  }
  protected override evalForward(x: Tensor): Tensor {
    return this.mode === "classic" && this.p > 0 ? mul(x, 1 - this.p) : x;
  }
  override extraRepr(): string {
    return `p=${this.p}${this.mode === "classic" ? ", mode=classic" : ""}`;
  }
}

function bernoulliTensor(key: Key, shape: Shape, keep: number): Tensor {
  const d = new Float32Array(sizeOf(shape));
  fillBernoulli(key, d, keep);
  return new Tensor(d, shape);
}

/** Drops whole channels of [N, C, L] (or [C, L]): one mask value per (sample, channel). */
export class Dropout1d extends Dropout {
  override noiseShape(shape: Shape): Shape {
    if (shape.length !== 3 && shape.length !== 2) throw new Error(`Dropout1d: expected [N, C, L] or [C, L], got ${fmt(shape)}`);
    return [...shape.slice(0, -1), 1];
  }
}

/** Drops whole feature maps of [N, C, H, W] (Tompson et al. 2015): one mask value per (sample, channel). */
export class Dropout2d extends Dropout {
  override noiseShape(shape: Shape): Shape {
    if (shape.length !== 4) throw new Error(`Dropout2d: expected [N, C, H, W], got ${fmt(shape)}`);
    return [shape[0]!, shape[1]!, 1, 1];
  }
}

/** Options of `StochasticDepth`. */
export interface StochasticDepthOptions extends DropoutModuleOptions {
  /** "row" (default): drop the branch per sample; "batch": drop it for the whole batch at once. */
  mode?: "row" | "batch";
}

/**
 * Stochastic depth (Huang et al. 2016) on a residual branch's output: x·m/(1−p) with m one Bernoulli value per
 * sample ("row") or per batch ("batch"); identity in evaluation. Use as `add(x, sd.forward(branch(x)))`.
 */
export class StochasticDepth extends Dropout {
  readonly depthMode: "row" | "batch";
  constructor(p: number, options: StochasticDepthOptions = {}) {
    super(p, { key: options.key, recordMasks: options.recordMasks });
    const mode = options.mode ?? "row";
    if (mode !== "row" && mode !== "batch") throw new RangeError(`StochasticDepth: unknown mode "${String(mode)}"`);
    this.depthMode = mode;
  }
  override noiseShape(shape: Shape): Shape {
    if (shape.length < 1) throw new Error("StochasticDepth: input needs a batch dimension");
    return shape.map((d, i) => (i === 0 && this.depthMode === "row" ? d : 1));
  }
  override extraRepr(): string {
    return `p=${this.p}, mode=${this.depthMode}`;
  }
}

/**
 * Gaussian dropout (Srivastava et al. 2014, §10): multiplies each unit by noise from N(1, p/(1−p)), the variance
 * of inverted Bernoulli dropout at rate p; identity in evaluation. `lastMask` holds the noise.
 */
export class GaussianDropout extends DropoutModule {
  protected sample(x: Tensor, key: Key): Tensor {
    const n = new Float32Array(x.size);
    fillNormal(key, n, 1, Math.sqrt(this.p / (1 - this.p)));
    const noise = new Tensor(n, x.shape);
    this.record(() => noise);
    return mul(x, noise);
  }
}

/**
 * Alpha dropout (Klambauer et al. 2017) for SELU networks: a dropped unit is set to α′ = −λα (SELU's negative
 * saturation), then a·(·) + b restores mean 0 and variance 1 with a = ((1−p)(1 + p·α′²))^−½ and b = −a·α′·p.
 * Identity in evaluation.
 */
export class AlphaDropout extends DropoutModule {
  protected sample(x: Tensor, key: Key): Tensor {
    const p = this.p;
    const alphaP = -SELU_LAMBDA * SELU_ALPHA;
    const a = 1 / Math.sqrt((1 - p) * (1 + p * alphaP * alphaP));
    const b = -a * alphaP * p;
    const m = bernoulliTensor(key, x.shape, 1 - p);
    this.record(() => m);
    // a·(x·m + α′·(1−m)) + b = x·(a·m) + (a·α′·(1−m) + b)
    const scale = new Float32Array(m.size);
    const shift = new Float32Array(m.size);
    for (let i = 0; i < m.size; i++) {
      const k = m.data[i]!;
      scale[i] = a * k;
      shift[i] = a * alphaP * (1 - k) + b;
    }
    return add(mul(x, new Tensor(scale, x.shape)), new Tensor(shift, x.shape));
  }
}

/**
 * DropBlock (Ghiasi et al. 2018) on [N, C, H, W]: block corners are drawn with rate
 * γ = p·H·W / (b²·(H−b+1)·(W−b+1)) among the positions where a b×b block fits, every unit of a drawn block is
 * dropped, and the kept units are scaled by (number of units)/(number kept). Identity in evaluation.
 */
export class DropBlock2d extends DropoutModule {
  constructor(p: number, readonly blockSize: number, options: DropoutModuleOptions = {}) {
    super(p, options);
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`DropBlock2d: blockSize must be a positive integer, got ${blockSize}`);
  }
  protected sample(x: Tensor, key: Key): Tensor {
    if (x.ndim !== 4) throw new Error(`DropBlock2d: expected [N, C, H, W], got ${fmt(x.shape)}`);
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const b = this.blockSize;
    if (b > H || b > W) throw new Error(`DropBlock2d: block ${b} does not fit input ${fmt(x.shape)}`);
    const gh = H - b + 1;
    const gw = W - b + 1;
    const gamma = Math.min(1, (this.p * H * W) / (b * b * gh * gw));
    const seeds = new Float32Array(N * C * gh * gw);
    fillBernoulli(key, seeds, gamma);
    const keep = new Float32Array(x.size).fill(1);
    for (let p = 0; p < N * C; p++) {
      for (let i = 0; i < gh; i++) for (let j = 0; j < gw; j++) {
        if (seeds[(p * gh + i) * gw + j] === 0) continue;
        for (let di = 0; di < b; di++) keep.fill(0, p * H * W + (i + di) * W + j, p * H * W + (i + di) * W + j + b);
      }
    }
    let kept = 0;
    for (let i = 0; i < keep.length; i++) kept += keep[i]!;
    this.record(() => new Tensor(keep.slice(), x.shape));
    const scale = kept > 0 ? keep.length / kept : 0;
    return mul(x, new Tensor(affine(keep, scale), x.shape));
  }
  override extraRepr(): string {
    return `p=${this.p}, blockSize=${this.blockSize}`;
  }
}

/**
 * DropConnect (Wan et al. 2013) around a Linear: in training each weight is dropped with probability p (one
 * mask per forward pass, shared by the batch) and the kept ones scale by 1/(1−p); evaluation uses the weights
 * as they are (the mean network, not Wan et al.'s Gaussian moment matching). The wrapped layer's parameters
 * are this module's ("layer.weight", "layer.bias").
 */
export class DropConnect extends DropoutModule {
  constructor(readonly layer: Linear, p = 0.5, options: DropoutModuleOptions = {}) {
    super(p, options);
    if (!(layer instanceof Linear)) throw new TypeError("DropConnect: wraps a Linear layer");
    this.child("layer", layer);
  }
  override forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return this.layer.forward(x);
    return this.sample(x, this.stream.next());
  }
  protected sample(x: Tensor, key: Key): Tensor {
    const L = this.layer;
    this.record(() => bernoulliTensor(key, L.weight.shape, 1 - this.p));
    const w = dropout(L.weight, this.p, { training: true, key });
    return linear(x, w, L.bias, L.activation);
  }
}
