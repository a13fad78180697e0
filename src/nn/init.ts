/**
 * Weight initializers, every one drawn from an explicit key. Fan-in/fan-out follow PyTorch: for a weight
 * [out, in, ...k], fanIn = in·∏k and fanOut = out·∏k.
 */
import { Key } from "../random/keys.js";
import { fillNormal, fillUniform } from "../random/sampling.js";
import { Tensor } from "../tensor/tensor.js";
import { checkShape, sizeOf, type Shape } from "../tensor/shape.js";

/** [fanIn, fanOut] of a weight shape. */
export function fans(shape: Shape): [number, number] {
  if (shape.length < 1) throw new RangeError("fans: need at least a 1-d shape");
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  const rf = sizeOf(shape.slice(2));
  return [shape[1]! * rf, shape[0]! * rf];
}

function filled(shape: Shape, op: string, fill: (d: Float32Array) => void): Tensor {
  checkShape(shape, op);
  const d = new Float32Array(sizeOf(shape));
  fill(d);
  return new Tensor(d, shape);
}

/** U(−a, a). */
export function uniformInit(key: Key, shape: Shape, a: number): Tensor {
  if (!(a > 0)) throw new RangeError(`uniformInit: bound must be positive, got ${a}`);
  return filled(shape, "uniformInit", (d) => fillUniform(key, d, -a, a));
}
/** Glorot/Xavier uniform: U(−a, a) with a = gain·sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(key: Key, shape: Shape, gain = 1): Tensor {
  const [fi, fo] = fans(shape);
  return uniformInit(key, shape, gain * Math.sqrt(6 / (fi + fo)));
}
/** Glorot/Xavier normal: N(0, gain²·2 / (fanIn + fanOut)). */
export function xavierNormal(key: Key, shape: Shape, gain = 1): Tensor {
  const [fi, fo] = fans(shape);
  return filled(shape, "xavierNormal", (d) => fillNormal(key, d, 0, gain * Math.sqrt(2 / (fi + fo))));
}
/** He/Kaiming uniform for ReLU: U(−a, a) with a = sqrt(6 / fanIn). */
export function heUniform(key: Key, shape: Shape): Tensor {
  return uniformInit(key, shape, Math.sqrt(6 / fans(shape)[0]));
}
/** He/Kaiming normal for ReLU: N(0, 2 / fanIn). */
export function heNormal(key: Key, shape: Shape): Tensor {
  return filled(shape, "heNormal", (d) => fillNormal(key, d, 0, Math.sqrt(2 / fans(shape)[0])));
}
/** LeCun normal, N(0, 1 / fanIn): the initialization SELU networks (and AlphaDropout) assume. */
export function lecunNormal(key: Key, shape: Shape): Tensor {
  return filled(shape, "lecunNormal", (d) => fillNormal(key, d, 0, Math.sqrt(1 / fans(shape)[0])));
}

/** Initializer names accepted by the layers' `init` option. */
export type InitName = "default" | "xavier" | "xavierNormal" | "he" | "heNormal" | "lecun";

/** A weight by name; "default" is PyTorch's layer default U(±1/sqrt(fanIn)). */
export function initWeight(name: InitName, key: Key, shape: Shape): Tensor {
  switch (name) {
    case "default": return uniformInit(key, shape, 1 / Math.sqrt(fans(shape)[0]));
    case "xavier": return xavierUniform(key, shape);
    case "xavierNormal": return xavierNormal(key, shape);
    case "he": return heUniform(key, shape);
    case "heNormal": return heNormal(key, shape);
    case "lecun": return lecunNormal(key, shape);
    default: throw new RangeError(`unknown initializer "${String(name)}"`);
  }
}
