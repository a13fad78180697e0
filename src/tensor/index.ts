/** Float32 tensors with reverse-mode autograd. */
export { Tensor, noGrad, isGradEnabled, type NestedArray, type IndexLike } from "./tensor.js";
export type { Shape } from "./shape.js";
export { tensor, full, zeros, ones, zerosLike, onesLike, arange, eye, rand, randn, type TensorOptions, type FromDataOptions } from "./creation.js";
export {
  add, sub, mul, div, pow, maximum, minimum, eq, gt, ge, lt, le, clone, neg, exp, log, sqrt, tanh, sigmoid, relu, abs, clamp, where,
  sum, mean, max, min, argmax, logsumexp, variance, type Operand,
} from "./ops.js";
export {
  reshape, flatten, squeeze, unsqueeze, expand, permute, transpose, slice, chunk, concat, stack, indexSelect, gather, oneHot,
  type SliceRange,
} from "./shapeops.js";
export {
  matmul, linear, conv2d, maxPool2d, avgPool2d, logSoftmax, softmax, crossEntropy, mseLoss, dropout,
  type Conv2dOptions, type LossOptions, type Reduction, type DropoutOptions,
} from "./layers.js";
export type { Activation } from "../backend/index.js";
export { emptyCache, tidy } from "./pool.js";
