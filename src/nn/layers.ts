/** Dense, convolutional, pooling, normalization, embedding and activation layers. */
import { Key, nextKey, split } from "../random/keys.js";
import type { Activation } from "../backend/index.js";
import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { add, exp, max, minimum, mul, relu, sigmoid, sqrt, sub, div, tanh, mean, variance } from "../tensor/ops.js";
import { flatten, indexSelect, reshape } from "../tensor/shapeops.js";
import { avgPool2d, conv2d, linear, maxPool2d, softmax } from "../tensor/layers.js";
import { Module } from "./module.js";
import { initWeight, uniformInit, type InitName } from "./init.js";
import { zeros, ones } from "../tensor/creation.js";
import { fillNormal } from "../random/sampling.js";

/** Throws unless v is an integer ≥ min. */
export function checkInt(op: string, name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${op}: ${name} must be an integer ≥ ${min}, got ${v}`);
}

/** Options of `Linear`. */
export interface LinearOptions {
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Activation fused into the layer: "none" (default), "relu", "tanh" or "sigmoid". */
  activation?: Activation;
  /** Weight initializer (default "default": PyTorch's U(±1/sqrt(inFeatures))); the bias always uses the default. */
  init?: InitName;
  /** Key for the initial weights (default: the next key of the `manualSeed` stream). */
  key?: Key;
}

/** y = act(x·Wᵀ + b) with W [out, in] (PyTorch's layout), in one fused engine call. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly activation: Activation;
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    checkInt("Linear", "inFeatures", inFeatures);
    checkInt("Linear", "outFeatures", outFeatures);
    const [kw, kb] = split(options.key ?? nextKey(), 2) as [Key, Key];
    this.activation = options.activation ?? "none";
    this.weight = this.param("weight", initWeight(options.init ?? "default", kw, [outFeatures, inFeatures]));
    this.bias = options.bias === false ? null : this.param("bias", uniformInit(kb, [outFeatures], 1 / Math.sqrt(inFeatures)));
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, this.activation);
  }
  override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}${this.bias ? "" : ", bias=false"}${this.activation !== "none" ? `, activation=${this.activation}` : ""}`;
  }
}

/** Options of `Conv2d`. */
export interface Conv2dLayerOptions {
  /** Step between windows (default 1). */
  stride?: number;
  /** Zero padding on every side (default 0). */
  padding?: number;
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Weight initializer (default PyTorch's U(±1/sqrt(fanIn))). */
  init?: InitName;
  /** Key for the initial weights (default: the next key of the `manualSeed` stream). */
  key?: Key;
}

/** 2-D convolution over [N, C, H, W] with a square kernel; weight [out, in, k, k]. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, options: Conv2dLayerOptions = {}) {
    super();
    checkInt("Conv2d", "inChannels", inChannels);
    checkInt("Conv2d", "outChannels", outChannels);
    checkInt("Conv2d", "kernelSize", kernelSize);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    const [kw, kb] = split(options.key ?? nextKey(), 2) as [Key, Key];
    this.weight = this.param("weight", initWeight(options.init ?? "default", kw, [outChannels, inChannels, kernelSize, kernelSize]));
    const fanIn = inChannels * kernelSize * kernelSize;
    this.bias = options.bias === false ? null : this.param("bias", uniformInit(kb, [outChannels], 1 / Math.sqrt(fanIn)));
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize}, stride=${this.stride}, padding=${this.padding}`;
  }
}

/** Options of the pooling layers. */
export interface PoolOptions {
  /** Step between windows (default: the kernel size). */
  stride?: number;
  /** Padding on every side (default 0). */
  padding?: number;
}

/** Max pooling over kernel×kernel windows. */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly options: PoolOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return `${this.kernelSize}`;
  }
}

/** Average pooling over kernel×kernel windows. */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: number, readonly options: PoolOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return `${this.kernelSize}`;
  }
}

/** Flattens dimensions startDim..endDim (default 1..−1: everything but the batch). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/** Options of `BatchNorm1d` / `BatchNorm2d`. */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running statistics: r ← (1−m)·r + m·batch (default 0.1, PyTorch's). */
  momentum?: number;
  /** Learn a scale γ and shift β (default true). */
  affine?: boolean;
}

abstract class BatchNormBase extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly eps: number;
  readonly momentum: number;
  protected abstract readonly axes: number[];
  protected abstract readonly rank: number;
  constructor(readonly numFeatures: number, options: BatchNormOptions) {
    super();
    checkInt(this.constructor.name, "numFeatures", numFeatures);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? true;
    this.weight = affine ? this.param("weight", ones([numFeatures])) : null;
    this.bias = affine ? this.param("bias", zeros([numFeatures])) : null;
    this.runningMean = this.buffer("runningMean", zeros([numFeatures]));
    this.runningVar = this.buffer("runningVar", ones([numFeatures]));
  }
  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    if (x.ndim !== this.rank || x.shape[1] !== this.numFeatures) {
      throw new Error(`${name}: expected input with ${this.rank} dims and ${this.numFeatures} features at dim 1, got ${fmt(x.shape)}`);
    }
    const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
    let m: Tensor;
    let v: Tensor;
    if (this.training) {
      const n = x.size / this.numFeatures;
      if (n < 2) throw new Error(`${name}: training needs more than one value per channel, got ${fmt(x.shape)}`);
      m = mean(x, this.axes, true);
      v = variance(x, this.axes, true, 0);
      const mo = this.momentum;
      const rm = this.runningMean.data;
      const rv = this.runningVar.data;
      for (let c = 0; c < this.numFeatures; c++) {
        rm[c] = (1 - mo) * rm[c]! + mo * m.data[c]!;
        rv[c] = (1 - mo) * rv[c]! + mo * v.data[c]! * (n / (n - 1));
      }
    } else {
      m = reshape(this.runningMean, bshape);
      v = reshape(this.runningVar, bshape);
    }
    let y = div(sub(x, m), sqrt(add(v, this.eps)));
    if (this.weight && this.bias) y = add(mul(y, reshape(this.weight, bshape)), reshape(this.bias, bshape));
    return y;
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/** Batch normalization over [N, C] (per feature, across the batch). */
export class BatchNorm1d extends BatchNormBase {
  protected readonly axes = [0];
  protected readonly rank = 2;
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }
}

/** Batch normalization over [N, C, H, W] (per channel, across batch and positions). */
export class BatchNorm2d extends BatchNormBase {
  protected readonly axes = [0, 2, 3];
  protected readonly rank = 4;
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }
}

/** Options of `Embedding`. */
export interface EmbeddingOptions {
  /** Key for the initial table, drawn N(0, 1) as PyTorch (default: the next key of the `manualSeed` stream). */
  key?: Key;
}

/** A lookup table: integer indices of any shape s → vectors [...s, dim]. */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkInt("Embedding", "numEmbeddings", numEmbeddings);
    checkInt("Embedding", "embeddingDim", embeddingDim);
    const w = new Tensor(new Float32Array(numEmbeddings * embeddingDim), [numEmbeddings, embeddingDim]);
    fillNormal(options.key ?? nextKey(), w.data, 0, 1);
    this.weight = this.param("weight", w);
  }
  forward(indices: Tensor): Tensor {
    const rows = indexSelect(this.weight, 0, indices);
    return reshape(rows, [...indices.shape, this.embeddingDim]);
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}

/** max(x, 0). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}
/** tanh(x). */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}
/** 1 / (1 + e^−x). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** SELU's constants (Klambauer et al. 2017). */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_LAMBDA = 1.0507009873554805;

/** SELU: λ·x for x > 0, λ·α·(eˣ − 1) otherwise, composed as λ·(relu(x) + α·(e^min(x,0) − 1)). */
export function selu(x: Tensor): Tensor {
  return mul(add(relu(x), mul(sub(exp(minimum(x, 0)), 1), SELU_ALPHA)), SELU_LAMBDA);
}
/** Self-normalizing activation (pair it with `AlphaDropout` and LeCun-normal weights). */
export class SELU extends Module {
  forward(x: Tensor): Tensor {
    return selu(x);
  }
}
/** softmax along `axis` (default −1). */
export class Softmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }
}

/**
 * Maxout (Goodfellow et al. 2013): the features of x [N, units·pieces] form `units` groups of `pieces`
 * consecutive values; the output [N, units] is each group's maximum. Put a Linear with units·pieces outputs
 * before it.
 */
export class Maxout extends Module {
  constructor(readonly pieces: number) {
    super();
    checkInt("Maxout", "pieces", pieces);
  }
  forward(x: Tensor): Tensor {
    const f = x.shape[x.ndim - 1]!;
    if (x.ndim < 1 || f % this.pieces !== 0) throw new Error(`Maxout: last dimension of ${fmt(x.shape)} is not a multiple of ${this.pieces}`);
    return max(reshape(x, [...x.shape.slice(0, -1), f / this.pieces, this.pieces]), -1);
  }
  override extraRepr(): string {
    return `pieces=${this.pieces}`;
  }
}
