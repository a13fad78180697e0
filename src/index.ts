/**
 * dropout-lab: tensors, autograd, neural-network layers and every dropout variant.
 *
 * Tensor ops are named exports (PyTorch names: `add`, `matmul`, `conv2d`, ...) and Tensor methods
 * (`x.matmul(w).add(b).relu()`); keyed random numbers live in the `random` namespace.
 */
export const version = "0.1.0";
export * as plot from "./plot/index.js";
export * from "./tensor/index.js";
export * as random from "./random/index.js";
export { Key, key, split, foldIn, manualSeed, nextKey } from "./random/keys.js";
