/** dropout-lab: tensors, autograd, neural-network layers and every dropout variant. */
export const version = "0.1.0";
export * as plot from "./plot/index.js";
